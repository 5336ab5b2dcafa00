using System.Globalization;
using System.Numerics;
using Edge.Contracts.Payloads;
using Edge.Storage.Oxygen;
using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>
/// One UTC hour of an oxygen concentrator. Use: the minutes in which at least one reading had a flow above 0; low
/// purity: the minutes in use in which a reading's purity was below <see cref="OxygenRollup.PurityFloorPct"/>.
/// </summary>
/// <param name="Serial">The device.</param>
/// <param name="Hour">The start of the UTC hour of device time.</param>
/// <param name="FirstReceivedAt">The earliest gateway received time of the hour's readings.</param>
/// <param name="LastReceivedAt">The latest gateway received time of the hour's readings.</param>
/// <param name="Readings">Readings stored for the hour.</param>
/// <param name="UseMinutes">Bit m set: a reading with flow &gt; 0 in minute m.</param>
/// <param name="FlowSum">Sum of the flows of readings with flow &gt; 0 (L/min).</param>
/// <param name="FlowCount">How many flows were summed.</param>
/// <param name="LowPurityMinutes">Bit m set: a reading with flow &gt; 0 and purity below the floor in minute m.</param>
/// <param name="Alarms">Readings per alarm code.</param>
public sealed record OxygenHour(
    string Serial, DateTimeOffset Hour, long Readings, long UseMinutes, double FlowSum, long FlowCount, long LowPurityMinutes,
    IReadOnlyDictionary<string, long> Alarms, DateTimeOffset FirstReceivedAt, DateTimeOffset LastReceivedAt) : IRollupHour
{
    public int UseSeconds => BitOperations.PopCount((ulong)UseMinutes) * 60;

    public int LowPuritySeconds => BitOperations.PopCount((ulong)LowPurityMinutes) * 60;
}

/// <summary>The <c>oxygen_hourly</c> rollup next to <c>oxygen_readings</c> (store <c>oxygen_rollups</c>).</summary>
internal sealed class OxygenRollup : RollupDefinition<OxygenHour>
{
    public const double PurityFloorPct = RollupThresholds.PurityFloorPct;

    private static readonly string PurityFloorSql = PurityFloorPct.ToString(CultureInfo.InvariantCulture);

    public override string Table => "oxygen_hourly";

    public override string Store => "oxygen_rollups";

    public override string Columns =>
        "readings, use_minutes, flow_sum, flow_count, low_purity_minutes, alarms, first_received_at, last_received_at";

    public override string Merge => $"""
        readings = h.readings + excluded.readings,
        use_minutes = h.use_minutes | excluded.use_minutes,
        flow_sum = h.flow_sum + excluded.flow_sum,
        flow_count = h.flow_count + excluded.flow_count,
        low_purity_minutes = h.low_purity_minutes | excluded.low_purity_minutes,
        alarms = {AddCounts("h.alarms", "excluded.alarms")},
        first_received_at = least(h.first_received_at, excluded.first_received_at),
        last_received_at = greatest(h.last_received_at, excluded.last_received_at)
        """;

    public override string RawSource => $"""
        SELECT serial, device_time, gateway_received_at, oxygen_purity_pct, flow_rate_lpm, alarm_code
        FROM {OxygenStore.Table}
        """;

    public override string LiveSource => """
        unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::double precision[], $5::double precision[], $6::text[])
            AS r (serial, device_time, gateway_received_at, oxygen_purity_pct, flow_rate_lpm, alarm_code)
        """;

    // Two steps: per (hour, alarm code) first, so the codes can be counted into one object per hour.
    public override string Aggregate(string source) => $"""
        SELECT serial, hour, sum(n)::bigint, bit_or(use_minutes), sum(flow_sum), sum(flow_count)::bigint, bit_or(low_purity_minutes),
            coalesce(jsonb_object_agg(alarm_code, n) FILTER (WHERE alarm_code IS NOT NULL), {EmptyCounts}),
            min(first_received_at), max(last_received_at)
        FROM (
            SELECT r.serial, {HourOf} AS hour, r.alarm_code, count(*) AS n,
                coalesce(bit_or({MinuteBit}) FILTER (WHERE r.flow_rate_lpm > 0), 0) AS use_minutes,
                coalesce(sum(r.flow_rate_lpm) FILTER (WHERE r.flow_rate_lpm > 0), 0) AS flow_sum,
                count(*) FILTER (WHERE r.flow_rate_lpm > 0) AS flow_count,
                coalesce(bit_or({MinuteBit}) FILTER (WHERE r.flow_rate_lpm > 0 AND r.oxygen_purity_pct < {PurityFloorSql}), 0) AS low_purity_minutes,
                min(r.gateway_received_at) AS first_received_at,
                max(r.gateway_received_at) AS last_received_at
            FROM {source}
            GROUP BY 1, 2, 3
        ) AS by_code
        GROUP BY serial, hour
        ORDER BY serial, hour
        """;

    public override Migration[] Migrations =>
    [
        // The backfill is the second statement: every reading stored before the rollups existed, summed up once.
        new(1, "oxygen_hourly, backfilled from oxygen_readings", $"""
            CREATE TABLE {Table} (
                serial             text             NOT NULL,
                hour               timestamptz      NOT NULL,
                readings           bigint           NOT NULL,
                use_minutes        bigint           NOT NULL,
                flow_sum           double precision NOT NULL,
                flow_count         bigint           NOT NULL,
                low_purity_minutes bigint           NOT NULL,
                alarms             jsonb            NOT NULL,
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
        var purity = new double[readings.Count];
        var flow = new double[readings.Count];
        var alarms = new string?[readings.Count];
        for (var i = 0; i < readings.Count; i++)
        {
            var metrics = ((OxygenTelemetry)readings[i].Reading).Metrics;
            purity[i] = metrics.OxygenPurityPct;
            flow[i] = metrics.FlowRateLpm;
            alarms[i] = PgText.CleanOrNull(metrics.AlarmCode);
        }
        command.Parameters.Add(Array(purity, NpgsqlDbType.Double));
        command.Parameters.Add(Array(flow, NpgsqlDbType.Double));
        command.Parameters.Add(Array(alarms, NpgsqlDbType.Text));
    }

    public override OxygenHour Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), Utc(reader, 1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDouble(4), reader.GetInt64(5),
        reader.GetInt64(6), Counts(reader, 7), Utc(reader, 8), Utc(reader, 9));
}
