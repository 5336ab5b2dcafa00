using System.Globalization;
using System.Text;
using Edge.Contracts.Devices;
using Npgsql;
using NpgsqlTypes;
using Edge.Storage.Postgres;

namespace Edge.Storage.Queries;

/// <summary>The fixed SQL pieces a reading table is read with; nothing a request sends is ever spliced into SQL.</summary>
/// <param name="Table">The reading table.</param>
/// <param name="Payload">The expression that gives the device's payload as jsonb.</param>
/// <param name="Alarm">The condition "alarms only" adds: the urgent flag or the kind's own alarm signal.</param>
/// <param name="Metrics">Metric name (<see cref="ReadingMetrics"/>) → a double precision expression over the table's columns.</param>
internal sealed record TelemetryTableSql(string Table, string Payload, string Alarm, IReadOnlyDictionary<string, string> Metrics);

/// <summary>
/// Keyset pages over one PostgreSQL reading table, for the stores' <see cref="IReadingQueries"/> (summaries come from the
/// per-metric hourly rollup, <see cref="Analytics.MetricSummaries"/>).
/// </summary>
/// <remarks>
/// A page is one statement, <c>WHERE serial = $1 AND device_time &gt;= $2 AND device_time &lt; $3 AND (device_time,
/// gateway_received_at, epoch, seq, id) &gt; (…) ORDER BY device_time, gateway_received_at, epoch, seq, id LIMIT n + 1</c>,
/// served by the <c>(serial, device_time, gateway_received_at, epoch, seq, id)</c> index as one range scan in the
/// partitions the time range touches: equal device times come back in the order the gateway received them. The key is
/// unique (it ends with the primary key's id), so a row is never returned twice; a row committed before paging began is
/// either behind the cursor (already returned) or ahead of it.
/// Commands are not prepared, so PostgreSQL plans each one with its values and prunes partitions at plan time.
/// </remarks>
internal sealed class PostgresTelemetryQueries(NpgsqlDataSource dataSource, string store, TelemetryTableSql sql, params DeviceKind[] kinds)
{
    /// <summary>The page order: device time, ties in arrival order, the id to make it unique.</summary>
    internal const string KeysetOrder = "device_time, gateway_received_at, epoch, seq, id";

    /// <summary>The migration that gives a reading table the index a page is one range scan of, replacing (serial, device_time, id).</summary>
    internal static Migration ArrivalOrderIndex(int version, string table) => new(version, $"index {table} (serial, {KeysetOrder}): equal device times in arrival order", $"""
        CREATE INDEX IF NOT EXISTS {table}_serial_time_arrival ON {table} (serial, {KeysetOrder});
        DROP INDEX IF EXISTS {table}_serial_time_id;
        """);

    private readonly string _select = $"""
        SELECT id, serial, device_time, gateway_received_at, stored_at, gateway_id, epoch, seq, urgent, {sql.Payload}
        FROM {sql.Table}
        WHERE serial = $1 AND device_time >= $2 AND device_time < $3
        """;

    public async Task<TelemetryPage> QueryAsync(TelemetryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ReadingMetrics.Require(query.Serial, query.Filters, store, kinds);
        if (query.From >= query.To || query.ReceivedWithin is { Count: 0 })
        {
            return new TelemetryPage([], null);
        }

        var limit = query.EffectiveLimit;
        await using var command = BuildQuery(query);
        var rows = new List<TelemetryRow>(Math.Min(limit + 1, 128));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new TelemetryRow(
                    reader.GetGuid(0),
                    reader.GetString(1),
                    Utc(reader.GetFieldValue<DateTime>(2)),
                    Utc(reader.GetFieldValue<DateTime>(3)),
                    Utc(reader.GetFieldValue<DateTime>(4)),
                    reader.GetString(5),
                    reader.GetInt64(6),
                    reader.GetInt64(7),
                    reader.GetBoolean(8),
                    reader.GetString(9)));
            }
        }
        return TelemetryPage.FromLimitPlusOne(rows, limit);
    }

    /// <summary>The page statement with its parameters (validated query; limit + 1 rows, to know whether more follow).</summary>
    internal NpgsqlCommand BuildQuery(TelemetryQuery query)
    {
        var command = dataSource.CreateCommand();
        var text = new StringBuilder(_select);
        AddRange(command, query.Serial, query.From, query.To);
        if (query.After is { } after)
        {
            // A row comparison on consecutive index columns: PostgreSQL uses it as an index bound, not a filter.
            text.Append(CultureInfo.InvariantCulture,
                $" AND (device_time, gateway_received_at, epoch, seq, id) > (${Add(command, after.DeviceTime.UtcDateTime)}, ${Add(command, after.ReceivedAt.UtcDateTime)}, ${Add(command, after.Epoch)}, ${Add(command, after.Sequence)}, ${Add(command, after.Id)})");
        }
        text.Append(ReceivedWithin(command, query.ReceivedWithin));
        if (query.AlarmsOnly)
        {
            text.Append(" AND ").Append(sql.Alarm);
        }
        foreach (var filter in query.Filters ?? [])
        {
            // The expression comes from the store's table, looked up by the validated name; the bounds are parameters.
            var expression = sql.Metrics[filter.Metric];
            if (filter.Min is { } min)
            {
                text.Append(CultureInfo.InvariantCulture, $" AND {expression} >= ${Add(command, min)}");
            }
            if (filter.Max is { } max)
            {
                text.Append(CultureInfo.InvariantCulture, $" AND {expression} <= ${Add(command, max)}");
            }
        }
        text.Append(CultureInfo.InvariantCulture, $" ORDER BY {KeysetOrder} LIMIT ${Add(command, query.EffectiveLimit + 1)}");
        command.CommandText = text.ToString();
        return command;
    }

    /// <summary>The condition that keeps readings received in one of the windows (a clinic's ownership periods), or nothing.</summary>
    private static string ReceivedWithin(NpgsqlCommand command, IReadOnlyList<ReceivedWindow>? windows)
    {
        if (windows is null)
        {
            return "";
        }
        var (from, to) = ReceivedWindowSql.Parameters(windows);
        command.Parameters.Add(from);
        command.Parameters.Add(to);
        return " AND " + ReceivedWindowSql.Covers("gateway_received_at", command.Parameters.Count - 1, command.Parameters.Count);
    }

    private static void AddRange(NpgsqlCommand command, SerialNumber serial, DateTimeOffset from, DateTimeOffset to)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serial.Value });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
    }

    private static int Add(NpgsqlCommand command, DateTime value)
    {
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return command.Parameters.Count;
    }

    private static int Add<T>(NpgsqlCommand command, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        return command.Parameters.Count;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
