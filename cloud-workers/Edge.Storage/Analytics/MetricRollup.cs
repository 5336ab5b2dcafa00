using System.Text;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>One metric's readings in an hour: how many had a value, their sum, smallest and largest (null when none had one).</summary>
public sealed record MetricStats(long Count, double Sum, double? Min, double? Max);

/// <summary>
/// One UTC hour of one device's readings, per metric of its kind (<see cref="ReadingMetrics.For"/>): what the trend
/// charts' summaries (<c>GET /v1/devices/{serial}/summary</c>) are read from.
/// </summary>
/// <param name="Serial">The device.</param>
/// <param name="Hour">The start of the UTC hour of device time.</param>
/// <param name="Readings">Readings stored for the hour.</param>
/// <param name="Alarms">Readings of the hour that are alarms: the store's "alarms only" condition (urgent, or the kind's alarm signal).</param>
/// <param name="Metrics">Per metric, in the order of <see cref="ReadingMetrics.For"/> for the kind.</param>
/// <param name="FirstReceivedAt">The earliest gateway received time of the hour's readings.</param>
/// <param name="LastReceivedAt">The latest gateway received time of the hour's readings.</param>
public sealed record MetricHour(
    string Serial, DateTimeOffset Hour, long Readings, long Alarms, IReadOnlyList<MetricStats> Metrics,
    DateTimeOffset FirstReceivedAt, DateTimeOffset LastReceivedAt) : IRollupHour;

/// <summary>
/// The per-metric hourly rollup of a PostgreSQL reading table (<c>{store}_metric_hourly</c>, store
/// <c>{store}_metric_rollups</c>): per metric count, sum, min and max, and the alarm readings, so a 30-day trend reads
/// 720 rows instead of 2.6 M readings.
/// </summary>
/// <remarks>
/// The metric expressions and the alarm condition are the store's own query SQL (<see cref="TelemetryTableSql"/>), so the
/// rollup sums exactly what a scan of the readings would: the backfill and a straddling hour read them from the table,
/// the live write from the batch's arrays under the same column names.
/// </remarks>
internal sealed class MetricRollup : RollupDefinition<MetricHour>
{
    private readonly TelemetryTableSql _sql;
    private readonly string[] _metrics;
    private readonly string? _alarmColumn;
    private readonly Func<Telemetry, int, double?> _value;
    private readonly Func<Telemetry, string?> _alarmText;

    private MetricRollup(
        string store, TelemetryTableSql sql, IReadOnlyList<string> metrics, string? alarmColumn,
        Func<Telemetry, int, double?> value, Func<Telemetry, string?> alarmText)
    {
        Table = $"{store}_metric_hourly";
        Store = $"{store}_metric_rollups";
        _sql = sql;
        _metrics = [.. metrics];
        _alarmColumn = alarmColumn;
        _value = value;
        _alarmText = alarmText;
    }

    /// <summary>The rollup of the store <paramref name="store"/> that keeps <paramref name="kind"/>'s readings with <paramref name="sql"/>.</summary>
    public static MetricRollup For(string store, TelemetryTableSql sql, DeviceKind kind) => kind switch
    {
        // CPAP's alarm condition is the urgent flag alone.
        DeviceKind.Cpap or DeviceKind.Bipap => new(store, sql, ReadingMetrics.For(kind), null, static (reading, metric) =>
        {
            var m = ((CpapTelemetry)reading).Metrics;
            return metric switch { 0 => m.PressureCmH2O, 1 => m.RespiratoryRate, _ => m.LeakRateLpm };
        }, static _ => null),
        DeviceKind.Oxygen => new(store, sql, ReadingMetrics.For(kind), "alarm_code", static (reading, metric) =>
        {
            var m = ((OxygenTelemetry)reading).Metrics;
            return metric switch { 0 => m.OxygenPurityPct, 1 => m.FlowRateLpm, 2 => m.TemperatureC, _ => m.BatteryPct };
        }, static reading => ((OxygenTelemetry)reading).Metrics.AlarmCode),
        DeviceKind.Ecg => new(store, sql, ReadingMetrics.For(kind), "arrhythmia", static (reading, metric) =>
        {
            var m = ((EcgTelemetry)reading).Metrics;
            return metric switch { 0 => m.HeartRateBpm, 1 => m.QrsMs, 2 => m.QtMs, _ => m.HrvRmssdMs };
        }, static reading => ((EcgTelemetry)reading).Metrics.Arrhythmia),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no metric rollup for this kind"),
    };

    public override string Table { get; }

    public override string Store { get; }

    /// <summary>The metric names, in the order of <see cref="MetricHour.Metrics"/>.</summary>
    public IReadOnlyList<string> Metrics => _metrics;

    public override string Columns => $"readings, alarms, {Join(m => $"{m}_count, {m}_sum, {m}_min, {m}_max")}, first_received_at, last_received_at";

    public override string Merge => $"""
        readings = h.readings + excluded.readings,
        alarms = h.alarms + excluded.alarms,
        {Join(m => $"{m}_count = h.{m}_count + excluded.{m}_count, {m}_sum = h.{m}_sum + excluded.{m}_sum, "
            + $"{m}_min = least(h.{m}_min, excluded.{m}_min), {m}_max = greatest(h.{m}_max, excluded.{m}_max)")},
        first_received_at = least(h.first_received_at, excluded.first_received_at),
        last_received_at = greatest(h.last_received_at, excluded.last_received_at)
        """;

    // The metrics as m0, m1, … (their SQL expressions over the table), beside the columns the alarm condition reads.
    public override string RawSource => $"""
        SELECT serial, device_time, gateway_received_at, urgent{(_alarmColumn is null ? "" : $", {_alarmColumn}")},
            {string.Join(", ", _metrics.Select((m, i) => $"{_sql.Metrics[m]} AS m{i}"))}
        FROM {_sql.Table}
        """;

    public override string LiveSource
    {
        get
        {
            var arrays = new StringBuilder("$1::text[], $2::timestamptz[], $3::timestamptz[], $4::boolean[]");
            var names = new StringBuilder("serial, device_time, gateway_received_at, urgent");
            var next = 5;
            if (_alarmColumn is not null)
            {
                arrays.Append(System.Globalization.CultureInfo.InvariantCulture, $", ${next++}::text[]");
                names.Append(", ").Append(_alarmColumn);
            }
            for (var i = 0; i < _metrics.Length; i++)
            {
                arrays.Append(System.Globalization.CultureInfo.InvariantCulture, $", ${next++}::double precision[]");
                names.Append(System.Globalization.CultureInfo.InvariantCulture, $", m{i}");
            }
            return $"unnest({arrays}) AS r ({names})";
        }
    }

    // The alarm condition's column names are unqualified: the source is the only relation.
    public override string Aggregate(string source) => $"""
        SELECT r.serial, {HourOf} AS hour, count(*), count(*) FILTER (WHERE {_sql.Alarm}),
            {string.Join(", ", _metrics.Select((_, i) => $"count(r.m{i}), coalesce(sum(r.m{i}), 0), min(r.m{i}), max(r.m{i})"))},
            min(r.gateway_received_at), max(r.gateway_received_at)
        FROM {source}
        GROUP BY 1, 2
        ORDER BY 1, 2
        """;

    public override Migration[] Migrations =>
    [
        // The backfill is the second statement: every reading stored before the rollup existed, summed up once.
        new(1, $"{Table}, backfilled from {_sql.Table}", $"""
            CREATE TABLE {Table} (
                serial            text        NOT NULL,
                hour              timestamptz NOT NULL,
                readings          bigint      NOT NULL,
                alarms            bigint      NOT NULL,
                {Join(m => $"{m}_count bigint NOT NULL, {m}_sum double precision NOT NULL, {m}_min double precision, {m}_max double precision")},
                first_received_at timestamptz NOT NULL,
                last_received_at  timestamptz NOT NULL,
                PRIMARY KEY (serial, hour)
            );
            INSERT INTO {Table} (serial, hour, {Columns})
            {Aggregate($"({RawSource}) AS r")};
            """),
    ];

    public override void AddLiveParameters(NpgsqlCommand command, IReadOnlyList<StoredReading> readings)
    {
        AddHeader(command, readings);
        var urgent = new bool[readings.Count];
        for (var i = 0; i < readings.Count; i++)
        {
            urgent[i] = readings[i].Urgent;
        }
        command.Parameters.Add(Array(urgent, NpgsqlDbType.Boolean));
        if (_alarmColumn is not null)
        {
            // Cleaned as the row writer stores the column, so the alarm condition sees the same text.
            var texts = new string?[readings.Count];
            for (var i = 0; i < readings.Count; i++)
            {
                texts[i] = PgText.CleanOrNull(_alarmText(readings[i].Reading));
            }
            command.Parameters.Add(Array(texts, NpgsqlDbType.Text));
        }
        for (var metric = 0; metric < _metrics.Length; metric++)
        {
            var values = new double?[readings.Count];
            for (var i = 0; i < readings.Count; i++)
            {
                values[i] = _value(readings[i].Reading, metric);
            }
            command.Parameters.Add(Array(values, NpgsqlDbType.Double));
        }
    }

    public override MetricHour Read(NpgsqlDataReader reader)
    {
        var stats = new MetricStats[_metrics.Length];
        for (var i = 0; i < stats.Length; i++)
        {
            var at = 4 + 4 * i;
            stats[i] = new MetricStats(
                reader.GetInt64(at), reader.GetDouble(at + 1),
                reader.IsDBNull(at + 2) ? null : reader.GetDouble(at + 2),
                reader.IsDBNull(at + 3) ? null : reader.GetDouble(at + 3));
        }
        var received = 4 + 4 * _metrics.Length;
        return new MetricHour(reader.GetString(0), Utc(reader, 1), reader.GetInt64(2), reader.GetInt64(3), stats, Utc(reader, received), Utc(reader, received + 1));
    }

    private string Join(Func<string, string> column) => string.Join(",\n    ", _metrics.Select(column));
}
