using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Ingest;
using Edge.Storage.Oxygen;
using Npgsql;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// What the devices saw acknowledged against what the stores hold, per device: a reading is its serial and device time
/// (unique per device: the simulator's timestamps increase by at least a millisecond).
/// </summary>
internal sealed record SoakTally(long Acknowledged, long Stored, long Lost, long Duplicated, long OutOfOrder, long StoredUnacknowledged, long CloudDeadLettered, IReadOnlyList<string> Problems)
{
    private static readonly string[] Tables = [OxygenStore.Table, EcgStore.Table, CpapPostgresStore.Table];

    /// <param name="acknowledged">Per serial, the device times of its acknowledged readings in sending order.</param>
    public static async Task<SoakTally> CountAsync(string database, IReadOnlyDictionary<string, IReadOnlyList<DateTimeOffset>> acknowledged)
    {
        var rows = new Dictionary<string, List<(long Epoch, long Sequence, DateTimeOffset DeviceTime)>>(StringComparer.Ordinal);
        long cloudDeadLettered;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            foreach (var table in Tables)
            {
                await using var command = new NpgsqlCommand($"SELECT serial, epoch, seq, device_time FROM {table}", connection);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    var serial = reader.GetString(0);
                    if (!rows.TryGetValue(serial, out var list))
                    {
                        rows[serial] = list = [];
                    }

                    list.Add((reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
                }
            }

            cloudDeadLettered = await CountAsync(connection, IngestLedger.DeadLettersTable) + await CountAsync(connection, IngestLedger.RejectedTable);
        }

        long acked = 0, stored = 0, lost = 0, duplicated = 0, outOfOrder = 0, unacknowledged = 0;
        var problems = new List<string>();
        foreach (var serial in acknowledged.Keys.Union(rows.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var sent = acknowledged.GetValueOrDefault(serial) ?? [];
            var held = rows.GetValueOrDefault(serial) ?? [];
            held.Sort((a, b) => (a.Epoch, a.Sequence).CompareTo((b.Epoch, b.Sequence)));

            var copies = new Dictionary<DateTimeOffset, int>();
            foreach (var row in held)
            {
                copies[row.DeviceTime] = copies.GetValueOrDefault(row.DeviceTime) + 1;
            }

            var deviceLost = sent.Count(time => !copies.ContainsKey(time));
            var deviceDuplicated = copies.Values.Sum(n => n - 1);
            // In gateway order (epoch, sequence), each reading must be later in device time than the one before it.
            var deviceOutOfOrder = 0;
            for (var i = 1; i < held.Count; i++)
            {
                if (held[i].DeviceTime < held[i - 1].DeviceTime)
                {
                    deviceOutOfOrder++;
                }
            }

            var acknowledgedSet = sent.ToHashSet();
            unacknowledged += copies.Keys.Count(time => !acknowledgedSet.Contains(time));
            acked += sent.Count;
            stored += held.Count;
            lost += deviceLost;
            duplicated += deviceDuplicated;
            outOfOrder += deviceOutOfOrder;
            if (deviceLost + deviceDuplicated + deviceOutOfOrder > 0)
            {
                var firstLost = sent.FirstOrDefault(time => !copies.ContainsKey(time));
                var firstDuplicate = copies.FirstOrDefault(c => c.Value > 1).Key;
                problems.Add($"{serial}: acknowledged {sent.Count}, stored {held.Count}, lost {deviceLost} (first {Time(firstLost)}), " +
                    $"duplicated {deviceDuplicated} (first {Time(firstDuplicate)}), out of order {deviceOutOfOrder}");
            }
        }

        return new SoakTally(acked, stored, lost, duplicated, outOfOrder, unacknowledged, cloudDeadLettered, problems);
    }

    private static string Time(DateTimeOffset time) => time == default ? "-" : time.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }
}
