using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Live;

/// <summary>The device times one batch stored for one serial: what a live viewer of that serial should fetch.</summary>
public sealed record StoredRange(string Serial, DateTimeOffset From, DateTimeOffset To);

/// <summary>
/// Tells API replicas that readings were stored, through PostgreSQL <c>NOTIFY</c> on the registry database. A notice
/// names serials and device-time ranges, not readings: payloads stay in the stores, NOTIFY's 8000-byte limit is never
/// near, and one notice per batch costs nothing next to the batch itself. The API fetches what its viewers watch.
/// </summary>
public static class StoredReadingsNotice
{
    public const string Channel = "edge_readings_stored";

    /// <summary>NOTIFY payloads must stay under 8000 bytes; notices are split well below that.</summary>
    internal const int MaxPayloadBytes = 7000;

    private const string NotifySql = "SELECT pg_notify($1, $2)";

    /// <summary>The ranges of <paramref name="readings"/>, one per serial.</summary>
    public static IReadOnlyList<StoredRange> RangesOf(IEnumerable<StoredReading> readings)
    {
        var ranges = new Dictionary<string, (DateTimeOffset From, DateTimeOffset To)>(StringComparer.Ordinal);
        foreach (var reading in readings)
        {
            var serial = reading.Serial.Value;
            ranges[serial] = ranges.TryGetValue(serial, out var range)
                ? (Min(range.From, reading.DeviceTime), Max(range.To, reading.DeviceTime))
                : (reading.DeviceTime, reading.DeviceTime);
        }
        return ranges.Select(r => new StoredRange(r.Key, r.Value.From, r.Value.To)).ToList();
    }

    /// <summary>Sends the ranges as one or more notices (each line: serial, from ticks, to ticks).</summary>
    public static async Task NotifyAsync(NpgsqlDataSource registry, IReadOnlyList<StoredRange> ranges, CancellationToken cancellationToken)
    {
        foreach (var payload in Encode(ranges))
        {
            await using var command = registry.CreateCommand(NotifySql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload, NpgsqlDbType = NpgsqlDbType.Text });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Lines of <c>serial from-ticks to-ticks</c> (UTC ticks), packed into payloads of at most <see cref="MaxPayloadBytes"/>.</summary>
    public static IEnumerable<string> Encode(IReadOnlyList<StoredRange> ranges)
    {
        var payload = new StringBuilder();
        foreach (var range in ranges)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{range.Serial} {range.From.UtcTicks} {range.To.UtcTicks}\n");
            if (payload.Length + line.Length > MaxPayloadBytes && payload.Length > 0)
            {
                yield return payload.ToString();
                payload.Clear();
            }
            payload.Append(line);
        }
        if (payload.Length > 0)
        {
            yield return payload.ToString();
        }
    }

    /// <summary>Reads a notice back; malformed lines (not ours) are skipped.</summary>
    public static List<StoredRange> Decode(string payload)
    {
        var ranges = new List<StoredRange>();
        foreach (var line in payload.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                && from is >= 0 and <= 3155378975999999999 && to is >= 0 and <= 3155378975999999999)
            {
                ranges.Add(new StoredRange(parts[0], new DateTimeOffset(from, TimeSpan.Zero), new DateTimeOffset(to, TimeSpan.Zero)));
            }
        }
        return ranges;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
