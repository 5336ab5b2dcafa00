using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>A device whose hours are asked for, and the gateway-received windows the caller may read them in (null: all).</summary>
public sealed record RollupScope(string Serial, IReadOnlyList<ReceivedWindow>? Windows);

/// <summary>One UTC hour of one device's readings, summed up; what every kind's hour has in common.</summary>
public interface IRollupHour
{
    string Serial { get; }

    /// <summary>The start of the UTC hour of device time.</summary>
    DateTimeOffset Hour { get; }

    /// <summary>The earliest and latest gateway received time of the hour's readings: what ownership periods are checked against.</summary>
    DateTimeOffset FirstReceivedAt { get; }

    DateTimeOffset LastReceivedAt { get; }
}

/// <summary>The hours of a kind's devices, for the analytics endpoints: from the rollups, limited to the callers' periods.</summary>
public interface IHourlyRollups<THour> where THour : IRollupHour
{
    /// <summary>
    /// Per device, the hours whose start lies in <c>[from, to)</c>, in hour order, counting only readings received in the
    /// device's windows. An hour whose readings all lie in one window is the stored rollup; an hour with readings on both
    /// sides of a window's edge (rare: the hour of a transfer) is computed again from the readings in the window; an hour
    /// with no reading in any window is left out.
    /// </summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<THour>>> HoursAsync(
        IReadOnlyList<RollupScope> devices, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>What a reading table needs of its rollups: their schema, the write in its transaction, and retention.</summary>
internal interface IRollupWriter
{
    /// <summary>Creates the rollup table and backfills it; run after the reading table's own migrations.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Adds the readings (all inserted by <paramref name="transaction"/>) to their hours, in that transaction.</summary>
    Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<StoredReading> inserted, CancellationToken cancellationToken);

    /// <summary>Removes the hours before <paramref name="cutoff"/>.</summary>
    Task<int> ApplyRetentionAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

/// <summary>
/// The SQL of one kind's hourly rollup table: its migrations and the aggregation that turns readings into hours, written
/// once over a source relation <c>r</c> with the columns serial, device_time, gateway_received_at and the kind's metrics.
/// The same aggregation reads the batch being stored (arrays, <see cref="LiveSource"/>), the whole reading table (the
/// backfill) and one hour of readings in a caller's windows (an hour that straddles an ownership boundary).
/// </summary>
internal abstract class RollupDefinition<THour> where THour : IRollupHour
{
    /// <summary>The rollup table, keyed (serial, hour).</summary>
    public abstract string Table { get; }

    /// <summary>The name in <c>schema_migrations</c>: a store of its own, so its versions never collide with the readings'.</summary>
    public abstract string Store { get; }

    /// <summary>The columns after serial and hour, in the order <see cref="Aggregate"/> yields them and <see cref="Read"/> reads them.</summary>
    public abstract string Columns { get; }

    /// <summary>The SET list of <c>ON CONFLICT (serial, hour) DO UPDATE</c>: the stored row <c>h</c> plus <c>excluded</c>.</summary>
    public abstract string Merge { get; }

    /// <summary>The reading table's rows as the aggregation's source columns (a SELECT … FROM the reading table, no WHERE).</summary>
    public abstract string RawSource { get; }

    /// <summary>The batch as the aggregation's source: <c>unnest</c> of the arrays <see cref="AddLiveParameters"/> adds as $1….</summary>
    public abstract string LiveSource { get; }

    /// <summary>SELECT serial, hour, <see cref="Columns"/> FROM <paramref name="source"/> (aliased r) grouped by serial and hour.</summary>
    public abstract string Aggregate(string source);

    public abstract Migration[] Migrations { get; }

    public abstract void AddLiveParameters(NpgsqlCommand command, IReadOnlyList<StoredReading> readings);

    /// <summary>Reads a row of serial, hour, <see cref="Columns"/>.</summary>
    public abstract THour Read(NpgsqlDataReader reader);

    /// <summary>The minute of the hour as one bit of a bigint: a set of covered minutes that merges with OR, so it is order-free.</summary>
    protected const string MinuteBit = "(1::bigint << extract(minute FROM r.device_time AT TIME ZONE 'UTC')::int)";

    /// <summary>An empty {key: count} object.</summary>
    protected const string EmptyCounts = "'{}'::jsonb";

    /// <summary>The start of the reading's UTC hour.</summary>
    protected const string HourOf = "date_trunc('hour', r.device_time, 'UTC')";

    /// <summary>Adds two {key: count} objects key by key (a subquery is allowed in ON CONFLICT … SET).</summary>
    protected static string AddCounts(string stored, string added) => $$"""
        (SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
            SELECT key AS k, sum(value::bigint) AS n
            FROM (SELECT * FROM jsonb_each({{stored}}) UNION ALL SELECT * FROM jsonb_each({{added}})) AS pairs
            GROUP BY key) AS merged)
        """;

    protected static NpgsqlParameter Array<T>(T[] values, NpgsqlDbType type) =>
        new NpgsqlParameter<T[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | type };

    protected static DateTimeOffset Utc(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetFieldValue<DateTime>(ordinal), DateTimeKind.Utc));

    protected static IReadOnlyDictionary<string, long> Counts(NpgsqlDataReader reader, int ordinal)
    {
        using var json = System.Text.Json.JsonDocument.Parse(reader.GetString(ordinal));
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            counts[property.Name] = property.Value.GetInt64();
        }
        return counts;
    }

    /// <summary>The common header of every batch's arrays: serial, device time, gateway received time ($1-$3).</summary>
    protected static void AddHeader(NpgsqlCommand command, IReadOnlyList<StoredReading> readings)
    {
        var serials = new string[readings.Count];
        var deviceTimes = new DateTime[readings.Count];
        var received = new DateTime[readings.Count];
        for (var i = 0; i < readings.Count; i++)
        {
            serials[i] = readings[i].Serial.Value;
            deviceTimes[i] = readings[i].DeviceTime.UtcDateTime;
            received[i] = readings[i].GatewayReceivedAt.UtcDateTime;
        }
        command.Parameters.Add(Array(serials, NpgsqlDbType.Text));
        command.Parameters.Add(Array(deviceTimes, NpgsqlDbType.TimestampTz));
        command.Parameters.Add(Array(received, NpgsqlDbType.TimestampTz));
    }
}

/// <summary>
/// A kind's hourly rollups in PostgreSQL, next to its readings (the same database, so one transaction covers both):
/// added to in the write transaction from exactly the readings that transaction inserted, read by the analytics.
/// </summary>
/// <remarks>
/// Counting only inserted rows is what keeps a re-sent batch, a second replica and a content-id duplicate from counting
/// twice: the COPY path inserts every reading of the batch or fails; the staging path reports the ids it inserted
/// (<c>RETURNING id</c>). Rows are upserted in (serial, hour) order, so two writers touching the same hours wait for
/// each other instead of deadlocking.
/// </remarks>
internal sealed class PostgresHourlyRollups<THour>(NpgsqlDataSource dataSource, RollupDefinition<THour> definition, ILogger logger)
    : IHourlyRollups<THour>, IRollupWriter where THour : IRollupHour
{
    private readonly string _upsertSql = $"""
        INSERT INTO {definition.Table} AS h (serial, hour, {definition.Columns})
        {definition.Aggregate(definition.LiveSource)}
        ON CONFLICT (serial, hour) DO UPDATE SET {definition.Merge}
        """;

    private readonly string _selectSql = $"""
        SELECT serial, hour, {definition.Columns} FROM {definition.Table}
        WHERE serial = ANY ($1) AND hour >= $2 AND hour < $3
        ORDER BY serial, hour
        """;

    // One hour of one device's readings, only those received in the windows ($3, $4).
    private readonly string _recomputeSql = definition.Aggregate($"""
        ({definition.RawSource} WHERE serial = $1 AND device_time >= $2 AND device_time < $2 + interval '1 hour'
            AND {ReceivedWindowSql.Covers("gateway_received_at", 3, 4)}) AS r
        """);

    private readonly string _retentionSql = $"DELETE FROM {definition.Table} WHERE hour < $1";

    public string Table => definition.Table;

    public Task MigrateAsync(CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, definition.Store, definition.Migrations, logger, cancellationToken);

    /// <summary>Adds the readings (all inserted by <paramref name="transaction"/>) to their hours, in that transaction.</summary>
    public async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<StoredReading> inserted, CancellationToken cancellationToken)
    {
        if (inserted.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(_upsertSql, connection, transaction);
        definition.AddLiveParameters(command, inserted);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes the hours before <paramref name="cutoff"/>: rollups keep no longer than the readings they sum up.</summary>
    public async Task<int> ApplyRetentionAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_retentionSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<THour>>> HoursAsync(
        IReadOnlyList<RollupScope> devices, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var result = new Dictionary<string, IReadOnlyList<THour>>(StringComparer.Ordinal);
        var scopes = new Dictionary<string, IReadOnlyList<ReceivedWindow>?>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            scopes[device.Serial] = device.Windows;
            result[device.Serial] = [];
        }
        if (scopes.Count == 0 || from >= to)
        {
            return result;
        }

        var stored = new List<THour>();
        await using (var command = dataSource.CreateCommand(_selectSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. scopes.Keys] });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add(definition.Read(reader));
            }
        }

        var hours = new Dictionary<string, List<THour>>(StringComparer.Ordinal);
        foreach (var hour in stored)
        {
            var windows = scopes[hour.Serial];
            THour? kept = RollupScoping.Classify(hour, windows) switch
            {
                HourScope.Inside => hour,
                HourScope.Straddles => await RecomputeAsync(hour.Serial, hour.Hour, windows!, cancellationToken),
                _ => default,
            };
            if (kept is not null)
            {
                if (!hours.TryGetValue(hour.Serial, out var list))
                {
                    hours[hour.Serial] = list = [];
                }
                list.Add(kept);
            }
        }
        foreach (var (serial, list) in hours)
        {
            result[serial] = list;
        }
        return result;
    }

    private async Task<THour?> RecomputeAsync(string serial, DateTimeOffset hour, IReadOnlyList<ReceivedWindow> windows, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_recomputeSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serial });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = hour.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var (fromParameter, toParameter) = ReceivedWindowSql.Parameters(windows);
        command.Parameters.Add(fromParameter);
        command.Parameters.Add(toParameter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? definition.Read(reader) : default;
    }
}

/// <summary>Where an hour's readings lie relative to a caller's windows.</summary>
internal enum HourScope
{
    /// <summary>All of them in one window (or no restriction): the stored rollup is the caller's.</summary>
    Inside,

    /// <summary>None of them in any window.</summary>
    Outside,

    /// <summary>Some in, some out: computed again from the readings in the windows.</summary>
    Straddles,
}

internal static class RollupScoping
{
    public static HourScope Classify(IRollupHour hour, IReadOnlyList<ReceivedWindow>? windows)
    {
        if (windows is null)
        {
            return HourScope.Inside;
        }
        var touches = false;
        foreach (var window in windows)
        {
            if (window.Contains(hour.FirstReceivedAt) && window.Contains(hour.LastReceivedAt))
            {
                return HourScope.Inside;
            }
            touches |= hour.LastReceivedAt >= window.From && (window.To is null || hour.FirstReceivedAt < window.To);
        }
        return touches ? HourScope.Straddles : HourScope.Outside;
    }
}
