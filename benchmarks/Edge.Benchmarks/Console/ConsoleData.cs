using System.Diagnostics;
using System.Globalization;
using Edge.Contracts.Devices;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Benchmarks.ClinicConsole;

/// <summary>One registered device of the benchmark's fleet, and whether it gets a history of readings.</summary>
internal sealed record BenchDevice(string Serial, DeviceKind Kind, string ClinicId, string GatewayId, int Index, bool WithHistory);

/// <summary>
/// The benchmark's fleet (clinics of 100 devices on 5 gateways of 20) and the readings of its devices with history,
/// written straight into the PostgreSQL stores with <c>INSERT … SELECT generate_series(…)</c>: one reading a second,
/// shaped as the worker stores them (the CPAP DeviceData document, the oxygen and ECG columns and raw payloads).
/// </summary>
/// <remarks>
/// The patterns give the analytics something to rank: CPAP devices deliver therapy from 22:00 UTC for 2 to 7 hours a
/// night (varying by device and night, so some are adherent and some are not); oxygen concentrators run 14 hours a day
/// with purity below 90 % in a few minutes and an alarm code once an hour; ECG recorders read 55-95 bpm with a QT that
/// is long for some devices and a few percent of readings flagged as atrial fibrillation.
/// </remarks>
internal static class ConsoleData
{
    public const int DevicesPerClinic = 100;
    public const int DevicesPerGateway = 20;

    private const int SerialBase = 9600;

    // The header columns every reading table starts with, then the kind's own: see Edge.Storage's stores.
    private const string CpapSql = """
        INSERT INTO cpap_device_data (id, content_id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent, data)
        SELECT gen_random_uuid(), gen_random_uuid(), $1, $2, 1, extract(epoch FROM t)::bigint, t, t + interval '2 seconds', t + interval '3 seconds', false,
            jsonb_build_object(
                'serial', $1::text,
                'timestamp', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'metrics', jsonb_build_object('pressure_cm_h2o', m.pressure, 'respiratory_rate', 14 + (extract(second FROM t)::int % 5),
                    'leak_rate_lpm', m.leak, 'patient_mode', 'AutoCPAP'),
                'firmware', 'v4.2.1',
                'gateway', jsonb_build_object('id', $2::text, 'epoch', 1,
                    'receivedAt', to_char((t + interval '2 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
                'seq', extract(epoch FROM t)::bigint,
                'urgent', false)
        FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 second', interval '1 second') AS t
        CROSS JOIN LATERAL (
            SELECT CASE WHEN (extract(hour FROM t AT TIME ZONE 'UTC')::int + 2) % 24 < 2 + ($5 + (extract(epoch FROM t)::bigint / 86400)::int) % 6
                        THEN round((8 + 4 * random())::numeric, 1)::double precision ELSE 0 END AS pressure,
                   round((5 + 30 * random())::numeric, 1)::double precision AS leak
        ) AS m
        """;

    private const string OxygenSql = """
        INSERT INTO oxygen_readings (id, content_id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent,
            oxygen_purity_pct, flow_rate_lpm, temperature_c, battery_pct, alarm_code, status, raw)
        SELECT gen_random_uuid(), gen_random_uuid(), $1, $2, 1, extract(epoch FROM t)::bigint, t, t + interval '2 seconds', t + interval '3 seconds',
            m.alarm IS NOT NULL, m.purity, m.flow, 37, NULL, m.alarm, 'online',
            jsonb_strip_nulls(jsonb_build_object(
                'serial', $1::text,
                'timestamp', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'metrics', jsonb_build_object('oxygen_purity_pct', m.purity, 'flow_rate_lpm', m.flow, 'temperature_c', 37, 'alarm_code', m.alarm),
                'status', 'online'))
        FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 second', interval '1 second') AS t
        CROSS JOIN LATERAL (
            SELECT CASE WHEN extract(minute FROM t)::int = ($5 % 60) THEN 86.5 ELSE round((92 + 4 * random())::numeric, 1)::double precision END AS purity,
                   CASE WHEN extract(hour FROM t AT TIME ZONE 'UTC')::int BETWEEN 6 AND 19 THEN 2.0 ELSE 0 END AS flow,
                   CASE WHEN extract(minute FROM t)::int = 30 AND extract(second FROM t)::int = 0 THEN 'E0' || ($5 % 3 + 1) END AS alarm
        ) AS m
        """;

    private const string EcgSql = """
        INSERT INTO ecg_readings (id, content_id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent,
            heart_rate_bpm, qrs_ms, qt_ms, arrhythmia, signal_quality, lead, raw, hrv_rmssd_ms)
        SELECT gen_random_uuid(), gen_random_uuid(), $1, $2, 1, extract(epoch FROM t)::bigint, t, t + interval '2 seconds', t + interval '3 seconds',
            m.arrhythmia <> 'none', m.hr, 92, m.qt, m.arrhythmia, m.quality, 'II',
            jsonb_build_object(
                'serial', $1::text,
                'timestamp', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'metrics', jsonb_build_object('heart_rate_bpm', m.hr, 'qrs_ms', 92, 'qt_ms', m.qt, 'arrhythmia', m.arrhythmia,
                    'signal_quality', m.quality, 'hrv_rmssd_ms', m.hrv),
                'lead', 'II'),
            m.hrv
        FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 second', interval '1 second') AS t
        CROSS JOIN LATERAL (
            SELECT round((55 + 40 * random())::numeric)::double precision AS hr,
                   (380 + ($5 % 4) * 25 + round((20 * random())::numeric))::double precision AS qt,
                   CASE WHEN random() < 0.01 * ($5 % 5) THEN 'afib' ELSE 'none' END AS arrhythmia,
                   CASE WHEN random() < 0.9 THEN 'good' WHEN random() < 0.5 THEN 'fair' ELSE 'poor' END AS quality,
                   round((20 + 40 * random())::numeric, 1)::double precision AS hrv
        ) AS m
        """;

    /// <summary>The fleet: <paramref name="devices"/> devices, 100 a clinic, 20 a gateway; the first <paramref name="withHistory"/> of clinic 1 get readings.</summary>
    public static IReadOnlyList<BenchDevice> Plan(int devices, int withHistory)
    {
        var serials = Edge.Cli.Simulate.SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], devices, SerialBase);
        var plan = new List<BenchDevice>(devices);
        for (var i = 0; i < devices; i++)
        {
            var kind = (i % 3) switch { 0 => DeviceKind.Cpap, 1 => DeviceKind.Oxygen, _ => DeviceKind.Ecg };
            plan.Add(new BenchDevice(serials[i], kind, ClinicId(i / DevicesPerClinic), GatewayId(i / DevicesPerClinic, i % DevicesPerClinic / DevicesPerGateway), i, i < withHistory));
        }
        return plan;
    }

    public static string ClinicId(int clinic) => string.Create(CultureInfo.InvariantCulture, $"bench-{clinic + 1:D2}");

    public static string GatewayId(int clinic, int gateway) => string.Create(CultureInfo.InvariantCulture, $"gw-bench-{clinic + 1:D2}-{gateway + 1}");

    /// <summary>
    /// Backdates the registry (registration and ownership periods start before the history, as for devices that have
    /// been in use for months) and creates the monthly partitions the history falls in.
    /// </summary>
    public static async Task PrepareAsync(NpgsqlDataSource database, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var since = from.AddDays(-1).UtcDateTime;
        foreach (var sql in (string[])[
            "UPDATE clinics SET created_at = $1",
            "UPDATE gateways SET registered_at = $1",
            "UPDATE devices SET registered_at = $1",
            "UPDATE device_ownership SET from_at = $1",
        ])
        {
            await using var command = database.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = since, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var month = new DateTime(from.Year, from.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        while (month <= DateTime.UtcNow)
        {
            foreach (var table in (string[])["cpap_device_data", "oxygen_readings", "ecg_readings"])
            {
                await using var command = database.CreateCommand("SELECT edge_create_month_partition($1, $2)");
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
                command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = DateOnly.FromDateTime(month) });
                await command.ExecuteScalarAsync(cancellationToken);
            }
            month = month.AddMonths(1);
        }
    }

    /// <summary>
    /// Writes one reading a second in <c>[from, to)</c> for every device with history, a day of one device per
    /// statement, <paramref name="parallel"/> statements at a time. Returns the rows written.
    /// </summary>
    public static async Task<long> LoadReadingsAsync(
        NpgsqlDataSource database, IReadOnlyList<BenchDevice> devices, DateTimeOffset from, DateTimeOffset to, int parallel, CancellationToken cancellationToken)
    {
        var work = new List<(BenchDevice Device, DateTimeOffset From, DateTimeOffset To)>();
        foreach (var device in devices.Where(d => d.WithHistory))
        {
            for (var day = from; day < to; day = day.AddDays(1))
            {
                work.Add((device, day, day.AddDays(1) < to ? day.AddDays(1) : to));
            }
        }

        long rows = 0;
        var done = 0;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (item, token) =>
        {
            var sql = item.Device.Kind switch
            {
                DeviceKind.Cpap or DeviceKind.Bipap => CpapSql,
                DeviceKind.Oxygen => OxygenSql,
                _ => EcgSql,
            };
            await using var command = database.CreateCommand(sql);
            command.CommandTimeout = 0;
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.Device.Serial });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.Device.GatewayId });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = item.From.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = item.To.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = item.Device.Index });
            var written = await command.ExecuteNonQueryAsync(token);
            var total = Interlocked.Add(ref rows, written);
            var count = Interlocked.Increment(ref done);
            if (count % 20 == 0 || count == work.Count)
            {
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                JsonLine.Progress(string.Create(CultureInfo.InvariantCulture,
                    $"console: {count}/{work.Count} device-days, {total:N0} readings, {total / seconds:N0}/s"));
            }
        });
        return rows;
    }

    /// <summary>
    /// Each device's newest reading time in <c>device_last_reading</c>, as the worker keeps it with every batch (the
    /// devices list's "last reading" and the device page's way to its newest reading).
    /// </summary>
    public static async Task TouchLastReadingsAsync(NpgsqlDataSource database, IReadOnlyList<BenchDevice> devices, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var serials = devices.Where(d => d.WithHistory).Select(d => d.Serial).ToArray();
        await using var command = database.CreateCommand("""
            INSERT INTO device_last_reading (serial, last_reading_at)
            SELECT serial, $2 FROM unnest($1::text[]) AS s (serial)
            ON CONFLICT (serial) DO UPDATE SET last_reading_at = EXCLUDED.last_reading_at
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = serials });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = to.AddSeconds(-1).UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Makes the hourly rollups the worker keeps, with the worker's own code: drops them and forgets their migrations,
    /// so the next start of a process that migrates the stores (the API) creates them again with their backfill, the
    /// aggregation the worker runs on every batch, over the whole reading tables.
    /// </summary>
    public static async Task ForgetRollupsAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            DROP TABLE cpap_hourly, oxygen_hourly, ecg_hourly, cpap_metric_hourly, oxygen_metric_hourly, ecg_metric_hourly;
            DELETE FROM schema_migrations WHERE store IN ('cpap_rollups', 'oxygen_rollups', 'ecg_rollups',
                'cpap_metric_rollups', 'oxygen_metric_rollups', 'ecg_metric_rollups');
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Fresh planner statistics, as autovacuum would have gathered on a database that grew over 30 days.</summary>
    public static async Task AnalyzeAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("VACUUM ANALYZE");
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
