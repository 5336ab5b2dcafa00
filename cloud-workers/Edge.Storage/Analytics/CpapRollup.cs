using System.Globalization;
using System.Numerics;
using Edge.Contracts.Payloads;
using Edge.Storage.Cpap;
using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>
/// One UTC hour of a CPAP/BiPAP device. Usage: the minutes in which at least one reading had a pressure above 0 (the
/// machine was delivering therapy), so a gap between readings counts for at most the minute it falls in.
/// </summary>
/// <param name="Serial">The device.</param>
/// <param name="Hour">The start of the UTC hour of device time.</param>
/// <param name="FirstReceivedAt">The earliest gateway received time of the hour's readings.</param>
/// <param name="LastReceivedAt">The latest gateway received time of the hour's readings.</param>
/// <param name="Readings">Readings stored for the hour.</param>
/// <param name="UsageMinutes">Bit m set: a reading with pressure &gt; 0 in minute m of the hour.</param>
/// <param name="PressureSum">Sum of the pressures of readings with pressure &gt; 0 (cmH2O).</param>
/// <param name="PressureCount">How many readings had pressure &gt; 0.</param>
/// <param name="LeakSum">Sum of the leak rates of readings with pressure &gt; 0 (L/min): leak while the mask is on.</param>
/// <param name="LeakCount">How many leak rates were summed.</param>
/// <param name="LargeLeakMinutes">Bit m set: a reading in use with a leak above <see cref="CpapRollup.LargeLeakLpm"/> in minute m.</param>
public sealed record CpapHour(
    string Serial, DateTimeOffset Hour, long Readings, long UsageMinutes, double PressureSum, long PressureCount,
    double LeakSum, long LeakCount, long LargeLeakMinutes, DateTimeOffset FirstReceivedAt, DateTimeOffset LastReceivedAt) : IRollupHour
{
    public int UsageSeconds => BitOperations.PopCount((ulong)UsageMinutes) * 60;

    public int LargeLeakSeconds => BitOperations.PopCount((ulong)LargeLeakMinutes) * 60;
}

/// <summary>The <c>cpap_hourly</c> rollup next to <c>cpap_device_data</c> (store <c>cpap_rollups</c>).</summary>
internal sealed class CpapRollup : RollupDefinition<CpapHour>
{
    public const double LargeLeakLpm = RollupThresholds.LargeLeakLpm;

    private static readonly string LargeLeakSql = LargeLeakLpm.ToString(CultureInfo.InvariantCulture);

    public override string Table => "cpap_hourly";

    public override string Store => "cpap_rollups";

    public override string Columns =>
        "readings, usage_minutes, pressure_sum, pressure_count, leak_sum, leak_count, large_leak_minutes, first_received_at, last_received_at";

    public override string Merge => """
        readings = h.readings + excluded.readings,
        usage_minutes = h.usage_minutes | excluded.usage_minutes,
        pressure_sum = h.pressure_sum + excluded.pressure_sum,
        pressure_count = h.pressure_count + excluded.pressure_count,
        leak_sum = h.leak_sum + excluded.leak_sum,
        leak_count = h.leak_count + excluded.leak_count,
        large_leak_minutes = h.large_leak_minutes | excluded.large_leak_minutes,
        first_received_at = least(h.first_received_at, excluded.first_received_at),
        last_received_at = greatest(h.last_received_at, excluded.last_received_at)
        """;

    public override string RawSource => $"""
        SELECT serial, device_time, gateway_received_at,
            (data->'metrics'->>'pressure_cm_h2o')::double precision AS pressure_cm_h2o,
            (data->'metrics'->>'leak_rate_lpm')::double precision AS leak_rate_lpm
        FROM {CpapPostgresStore.Table}
        """;

    public override string LiveSource => """
        unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::double precision[], $5::double precision[])
            AS r (serial, device_time, gateway_received_at, pressure_cm_h2o, leak_rate_lpm)
        """;

    public override string Aggregate(string source) => $"""
        SELECT r.serial, {HourOf} AS hour,
            count(*),
            coalesce(bit_or({MinuteBit}) FILTER (WHERE r.pressure_cm_h2o > 0), 0),
            coalesce(sum(r.pressure_cm_h2o) FILTER (WHERE r.pressure_cm_h2o > 0), 0),
            count(*) FILTER (WHERE r.pressure_cm_h2o > 0),
            coalesce(sum(r.leak_rate_lpm) FILTER (WHERE r.pressure_cm_h2o > 0), 0),
            count(*) FILTER (WHERE r.pressure_cm_h2o > 0),
            coalesce(bit_or({MinuteBit}) FILTER (WHERE r.pressure_cm_h2o > 0 AND r.leak_rate_lpm > {LargeLeakSql}), 0),
            min(r.gateway_received_at),
            max(r.gateway_received_at)
        FROM {source}
        GROUP BY 1, 2
        ORDER BY 1, 2
        """;

    public override Migration[] Migrations =>
    [
        // The backfill is the second statement: every reading stored before the rollups existed, summed up once.
        new(1, "cpap_hourly, backfilled from cpap_device_data", $"""
            CREATE TABLE {Table} (
                serial             text             NOT NULL,
                hour               timestamptz      NOT NULL,
                readings           bigint           NOT NULL,
                usage_minutes      bigint           NOT NULL,
                pressure_sum       double precision NOT NULL,
                pressure_count     bigint           NOT NULL,
                leak_sum           double precision NOT NULL,
                leak_count         bigint           NOT NULL,
                large_leak_minutes bigint           NOT NULL,
                first_received_at  timestamptz      NOT NULL,
                last_received_at   timestamptz      NOT NULL,
                PRIMARY KEY (serial, hour)
            );
            INSERT INTO {Table} (serial, hour, {Columns})
            {Aggregate($"({RawSource}) AS r")};
            """),
    ];

    public override void AddLiveParameters(NpgsqlCommand command, IReadOnlyList<StoredReading> readings)
    {
        AddHeader(command, readings);
        var pressure = new double[readings.Count];
        var leak = new double[readings.Count];
        for (var i = 0; i < readings.Count; i++)
        {
            var metrics = ((CpapTelemetry)readings[i].Reading).Metrics;
            pressure[i] = metrics.PressureCmH2O;
            leak[i] = metrics.LeakRateLpm;
        }
        command.Parameters.Add(Array(pressure, NpgsqlDbType.Double));
        command.Parameters.Add(Array(leak, NpgsqlDbType.Double));
    }

    public override CpapHour Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), Utc(reader, 1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDouble(4), reader.GetInt64(5),
        reader.GetDouble(6), reader.GetInt64(7), reader.GetInt64(8), Utc(reader, 9), Utc(reader, 10));
}
