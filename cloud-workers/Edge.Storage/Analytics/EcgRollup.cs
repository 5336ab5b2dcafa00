using System.Globalization;
using Edge.Contracts.Payloads;
using Edge.Storage.Ecg;
using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>
/// One UTC hour of an ECG recorder. Monitored time: the minutes with at least one reading. QTc by Bazett's formula,
/// QT / √RR with RR = 60 / heart rate in seconds, for readings with a heart rate and a QT above 0.
/// </summary>
/// <param name="Serial">The device.</param>
/// <param name="Hour">The start of the UTC hour of device time.</param>
/// <param name="FirstReceivedAt">The earliest gateway received time of the hour's readings.</param>
/// <param name="LastReceivedAt">The latest gateway received time of the hour's readings.</param>
/// <param name="Readings">Readings stored for the hour.</param>
/// <param name="MonitoredMinutes">Bit m set: a reading in minute m.</param>
/// <param name="HeartRateSum">Sum of the heart rates (bpm) of all readings; <see cref="Readings"/> is the count.</param>
/// <param name="HeartRateMin">Lowest heart rate of the hour.</param>
/// <param name="HeartRateMax">Highest heart rate of the hour.</param>
/// <param name="Arrhythmias">Readings per arrhythmia other than "none" (lower case).</param>
/// <param name="HrvSum">Sum of the RMSSD values (ms) of readings that carry one.</param>
/// <param name="HrvCount">How many readings carried an RMSSD.</param>
/// <param name="QtcSum">Sum of the Bazett QTc values (ms).</param>
/// <param name="QtcCount">How many QTc values were summed.</param>
/// <param name="LongQtCount">Readings whose QTc is above <see cref="EcgRollup.LongQtcMs"/>.</param>
/// <param name="GoodSignal">Readings with signal quality "good".</param>
public sealed record EcgHour(
    string Serial, DateTimeOffset Hour, long Readings, long MonitoredMinutes, double HeartRateSum, double HeartRateMin, double HeartRateMax,
    IReadOnlyDictionary<string, long> Arrhythmias, double HrvSum, long HrvCount, double QtcSum, long QtcCount, long LongQtCount,
    long GoodSignal, DateTimeOffset FirstReceivedAt, DateTimeOffset LastReceivedAt) : IRollupHour
{
    public int MonitoredSeconds => System.Numerics.BitOperations.PopCount((ulong)MonitoredMinutes) * 60;
}

/// <summary>The <c>ecg_hourly</c> rollup next to <c>ecg_readings</c> (store <c>ecg_rollups</c>).</summary>
internal sealed class EcgRollup : RollupDefinition<EcgHour>
{
    public const double LongQtcMs = RollupThresholds.LongQtcMs;

    private static readonly string LongQtcSql = LongQtcMs.ToString(CultureInfo.InvariantCulture);

    public override string Table => "ecg_hourly";

    public override string Store => "ecg_rollups";

    public override string Columns =>
        "readings, monitored_minutes, heart_rate_sum, heart_rate_min, heart_rate_max, arrhythmias, hrv_sum, hrv_count, qtc_sum, qtc_count, "
        + "long_qt_count, good_signal, first_received_at, last_received_at";

    public override string Merge => $"""
        readings = h.readings + excluded.readings,
        monitored_minutes = h.monitored_minutes | excluded.monitored_minutes,
        heart_rate_sum = h.heart_rate_sum + excluded.heart_rate_sum,
        heart_rate_min = least(h.heart_rate_min, excluded.heart_rate_min),
        heart_rate_max = greatest(h.heart_rate_max, excluded.heart_rate_max),
        arrhythmias = {AddCounts("h.arrhythmias", "excluded.arrhythmias")},
        hrv_sum = h.hrv_sum + excluded.hrv_sum,
        hrv_count = h.hrv_count + excluded.hrv_count,
        qtc_sum = h.qtc_sum + excluded.qtc_sum,
        qtc_count = h.qtc_count + excluded.qtc_count,
        long_qt_count = h.long_qt_count + excluded.long_qt_count,
        good_signal = h.good_signal + excluded.good_signal,
        first_received_at = least(h.first_received_at, excluded.first_received_at),
        last_received_at = greatest(h.last_received_at, excluded.last_received_at)
        """;

    public override string RawSource => $"""
        SELECT serial, device_time, gateway_received_at, heart_rate_bpm, qt_ms, arrhythmia, signal_quality, hrv_rmssd_ms
        FROM {EcgStore.Table}
        """;

    public override string LiveSource => """
        unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::double precision[], $5::double precision[], $6::text[], $7::text[],
            $8::double precision[])
            AS r (serial, device_time, gateway_received_at, heart_rate_bpm, qt_ms, arrhythmia, signal_quality, hrv_rmssd_ms)
        """;

    // Bazett: QTc = QT / sqrt(RR), RR = 60 / HR seconds.
    private const string Qtc = "(r.qt_ms / sqrt(60.0 / r.heart_rate_bpm))";
    private const string HasQtc = "(r.heart_rate_bpm > 0 AND r.qt_ms > 0)";

    // Two steps: per (hour, arrhythmia) first, so the arrhythmias can be counted into one object per hour.
    public override string Aggregate(string source) => $"""
        SELECT serial, hour, sum(n)::bigint, bit_or(monitored_minutes), sum(heart_rate_sum), min(heart_rate_min), max(heart_rate_max),
            coalesce(jsonb_object_agg(arrhythmia, n) FILTER (WHERE arrhythmia <> 'none'), {EmptyCounts}),
            sum(hrv_sum), sum(hrv_count)::bigint, sum(qtc_sum), sum(qtc_count)::bigint, sum(long_qt_count)::bigint, sum(good_signal)::bigint,
            min(first_received_at), max(last_received_at)
        FROM (
            SELECT r.serial, {HourOf} AS hour, lower(r.arrhythmia) AS arrhythmia, count(*) AS n,
                bit_or({MinuteBit}) AS monitored_minutes,
                sum(r.heart_rate_bpm) AS heart_rate_sum,
                min(r.heart_rate_bpm) AS heart_rate_min,
                max(r.heart_rate_bpm) AS heart_rate_max,
                coalesce(sum(r.hrv_rmssd_ms), 0) AS hrv_sum,
                count(r.hrv_rmssd_ms) AS hrv_count,
                coalesce(sum({Qtc}) FILTER (WHERE {HasQtc}), 0) AS qtc_sum,
                count(*) FILTER (WHERE {HasQtc}) AS qtc_count,
                count(*) FILTER (WHERE {HasQtc} AND {Qtc} > {LongQtcSql}) AS long_qt_count,
                count(*) FILTER (WHERE r.signal_quality = 'good') AS good_signal,
                min(r.gateway_received_at) AS first_received_at,
                max(r.gateway_received_at) AS last_received_at
            FROM {source}
            GROUP BY 1, 2, 3
        ) AS by_arrhythmia
        GROUP BY serial, hour
        ORDER BY serial, hour
        """;

    public override Migration[] Migrations =>
    [
        // The backfill is the second statement: every reading stored before the rollups existed, summed up once.
        new(1, "ecg_hourly, backfilled from ecg_readings", $"""
            CREATE TABLE {Table} (
                serial            text             NOT NULL,
                hour              timestamptz      NOT NULL,
                readings          bigint           NOT NULL,
                monitored_minutes bigint           NOT NULL,
                heart_rate_sum    double precision NOT NULL,
                heart_rate_min    double precision NOT NULL,
                heart_rate_max    double precision NOT NULL,
                arrhythmias       jsonb            NOT NULL,
                hrv_sum           double precision NOT NULL,
                hrv_count         bigint           NOT NULL,
                qtc_sum           double precision NOT NULL,
                qtc_count         bigint           NOT NULL,
                long_qt_count     bigint           NOT NULL,
                good_signal       bigint           NOT NULL,
                first_received_at timestamptz      NOT NULL,
                last_received_at  timestamptz      NOT NULL,
                PRIMARY KEY (serial, hour)
            );
            INSERT INTO {Table} (serial, hour, {Columns})
            {Aggregate($"({RawSource}) AS r")};
            """),
    ];

    public override void AddLiveParameters(NpgsqlCommand command, IReadOnlyList<StoredReading> readings)
    {
        AddHeader(command, readings);
        var heartRate = new double[readings.Count];
        var qt = new double[readings.Count];
        var arrhythmia = new string[readings.Count];
        var quality = new string[readings.Count];
        var hrv = new double?[readings.Count];
        for (var i = 0; i < readings.Count; i++)
        {
            var metrics = ((EcgTelemetry)readings[i].Reading).Metrics;
            heartRate[i] = metrics.HeartRateBpm;
            qt[i] = metrics.QtMs;
            arrhythmia[i] = PgText.Clean(metrics.Arrhythmia);
            quality[i] = PgText.Clean(metrics.SignalQuality);
            hrv[i] = metrics.HrvRmssdMs;
        }
        command.Parameters.Add(Array(heartRate, NpgsqlDbType.Double));
        command.Parameters.Add(Array(qt, NpgsqlDbType.Double));
        command.Parameters.Add(Array(arrhythmia, NpgsqlDbType.Text));
        command.Parameters.Add(Array(quality, NpgsqlDbType.Text));
        command.Parameters.Add(Array(hrv, NpgsqlDbType.Double));
    }

    public override EcgHour Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), Utc(reader, 1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDouble(4), reader.GetDouble(5),
        reader.GetDouble(6), Counts(reader, 7), reader.GetDouble(8), reader.GetInt64(9), reader.GetDouble(10), reader.GetInt64(11),
        reader.GetInt64(12), reader.GetInt64(13), Utc(reader, 14), Utc(reader, 15));
}
