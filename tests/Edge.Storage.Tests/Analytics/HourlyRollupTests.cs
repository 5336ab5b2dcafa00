using Edge.Contracts.Identity;
using Edge.Storage.Analytics;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Oxygen;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Analytics;

/// <summary>
/// The hourly rollups the PostgreSQL stores keep in their write transaction: counted once however often a batch is stored,
/// the same numbers as the readings they sum up, backfilled at migration, and scoped by ownership windows.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class HourlyRollupTests(PostgresServer server) : PostgresTest(server)
{
    private const string Cpap = "CPAP-2301-9912";
    private static readonly DateTimeOffset Hour = new(2026, 1, 15, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_batch_stored_twice_after_a_restart_or_journaled_again_counts_once()
    {
        var store = await CpapStoreAsync();
        // One reading a minute for 40 minutes, the first 30 in use, leak above 30 L/min in minutes 10-14.
        var batch = Enumerable.Range(0, 40).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i).AddSeconds(5),
            pressure: i < 30 ? 10 : 0, leak: i is >= 10 and < 15 ? 40 : 12)).ToList();

        Assert.Equal(40, await store.WriteAsync(batch, CancellationToken.None));
        var first = await CpapHoursAsync(store);
        Assert.Equal(0, await store.WriteAsync(batch, CancellationToken.None));
        // A new process (a worker restart): nothing in memory decides what was counted.
        var restarted = await CpapStoreAsync();
        Assert.Equal(0, await restarted.WriteAsync(batch, CancellationToken.None));
        // The same content journaled again under another epoch (new reading ids, same content ids).
        var again = batch.Select(r => r with { Id = ReadingId.From(r.GatewayId, 2, r.Sequence), Epoch = 2 }).ToList();
        Assert.Equal(0, await restarted.WriteAsync(again, CancellationToken.None));

        var hour = Assert.Single(await CpapHoursAsync(restarted));
        Assert.Equal(first.Single(), hour);
        Assert.Equal(40, hour.Readings);
        Assert.Equal(30 * 60, hour.UsageSeconds);
        Assert.Equal(30, hour.PressureCount);
        Assert.Equal(300, hour.PressureSum, 6);
        Assert.Equal((5 * 40) + (25 * 12), hour.LeakSum, 6);
        Assert.Equal(5 * 60, hour.LargeLeakSeconds);
        Assert.Equal(batch[0].GatewayReceivedAt, hour.FirstReceivedAt);
        Assert.Equal(batch[^1].GatewayReceivedAt, hour.LastReceivedAt);
    }

    [Fact]
    public async Task A_batch_partly_stored_before_adds_only_its_new_readings()
    {
        var store = await CpapStoreAsync();
        var batch = Enumerable.Range(0, 20).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i), pressure: 8)).ToList();
        await store.WriteAsync(batch[..10], CancellationToken.None);

        Assert.Equal(10, await store.WriteAsync(batch, CancellationToken.None));

        var hour = Assert.Single(await CpapHoursAsync(store));
        Assert.Equal(20, hour.Readings);
        Assert.Equal(20, hour.PressureCount);
        Assert.Equal(160, hour.PressureSum, 6);
        Assert.Equal(20 * 60, hour.UsageSeconds);
    }

    [Fact]
    public async Task ECG_hours_hold_QTc_HRV_arrhythmias_and_signal_quality_as_computed_by_hand()
    {
        var store = new EcgStore(DataSource, 365, Clock, Logger<EcgStore>());
        await store.MigrateAsync(CancellationToken.None);
        await store.WriteAsync(EcgHourOfReadings(Hour), CancellationToken.None);

        var hours = await store.Hours.HoursAsync([new RollupScope("ECG-7711-0045", null)], Hour, Hour.AddHours(1), CancellationToken.None);

        var hour = Assert.Single(hours["ECG-7711-0045"]);
        Assert.Equal(60, hour.Readings);
        Assert.Equal(3600, hour.MonitoredSeconds);
        Assert.Equal(new Dictionary<string, long> { ["afib"] = 6, ["pvc"] = 3 }, hour.Arrhythmias);
        // 54 readings at 60 bpm (RR 1 s) with QT 400 ms: QTc 400; 6 at 120 bpm (RR 0.5 s) with QT 360 ms: QTc 360/√0.5 = 509.1.
        Assert.Equal(60, hour.QtcCount);
        Assert.Equal((54 * 400) + (6 * 360 / Math.Sqrt(0.5)), hour.QtcSum, 6);
        Assert.Equal(6, hour.LongQtCount);
        // 50 readings with RMSSD 30 ms, 10 with 150 ms.
        Assert.Equal(60, hour.HrvCount);
        Assert.Equal((50 * 30) + (10 * 150), hour.HrvSum, 6);
        Assert.Equal(45, hour.GoodSignal);
        Assert.Equal((54 * 60) + (6 * 120), hour.HeartRateSum, 6);
        Assert.Equal((60, 120), (hour.HeartRateMin, hour.HeartRateMax));
    }

    [Fact]
    public async Task Oxygen_hours_count_minutes_in_use_below_the_purity_floor_and_alarms_by_code()
    {
        var store = new OxygenStore(DataSource, 365, Clock, Logger<OxygenStore>());
        await store.MigrateAsync(CancellationToken.None);
        await store.WriteAsync(OxygenHourOfReadings(Hour), CancellationToken.None);

        var hours = await store.Hours.HoursAsync([new RollupScope("OXY-8844-5521", null)], Hour, Hour.AddHours(1), CancellationToken.None);

        var hour = Assert.Single(hours["OXY-8844-5521"]);
        Assert.Equal(60, hour.Readings);
        Assert.Equal(50 * 60, hour.UseSeconds);
        Assert.Equal(7 * 60, hour.LowPuritySeconds);
        Assert.Equal(50, hour.FlowCount);
        Assert.Equal(100, hour.FlowSum, 6);
        Assert.Equal(new Dictionary<string, long> { ["LOW_PURITY"] = 3, ["E07"] = 1 }, hour.Alarms);
    }

    [Fact]
    public async Task The_migration_backfills_the_readings_stored_before_the_rollups_existed()
    {
        var store = new OxygenStore(DataSource, 365, Clock, Logger<OxygenStore>());
        await store.MigrateAsync(CancellationToken.None);
        await store.WriteAsync(OxygenHourOfReadings(Hour), CancellationToken.None);
        await store.WriteAsync(OxygenHourOfReadings(Hour.AddHours(5)), CancellationToken.None);
        var live = await OxygenHoursAsync(store);
        // A database from before the rollups: the table and its migration record gone, the readings still there.
        await ScalarAsync<int>("DROP TABLE oxygen_hourly; DELETE FROM schema_migrations WHERE store = 'oxygen_rollups'; SELECT 1");

        var upgraded = new OxygenStore(DataSource, 365, Clock, Logger<OxygenStore>());
        await upgraded.MigrateAsync(CancellationToken.None);

        var backfilled = await OxygenHoursAsync(upgraded);
        Assert.Equal(2, backfilled.Count);
        Assert.Equal(live.Select(Comparable), backfilled.Select(Comparable));
    }

    [Fact]
    public async Task An_hour_that_straddles_an_ownership_boundary_is_computed_from_the_readings_of_the_window()
    {
        var store = await CpapStoreAsync();
        var batch = Enumerable.Range(0, 60).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i), pressure: i < 20 ? 6 : 12)).ToList();
        await store.WriteAsync(batch, CancellationToken.None);
        var transfer = batch[20].GatewayReceivedAt;

        var before = await store.Hours.HoursAsync([new RollupScope(Cpap, [new ReceivedWindow(Hour.AddDays(-1), transfer)])], Hour, Hour.AddHours(1), CancellationToken.None);
        var after = await store.Hours.HoursAsync([new RollupScope(Cpap, [new ReceivedWindow(transfer, null)])], Hour, Hour.AddHours(1), CancellationToken.None);
        var elsewhere = await store.Hours.HoursAsync([new RollupScope(Cpap, [new ReceivedWindow(Hour.AddDays(1), null)])], Hour, Hour.AddHours(1), CancellationToken.None);

        var old = Assert.Single(before[Cpap]);
        Assert.Equal((20L, 20 * 60, 120.0), (old.Readings, old.UsageSeconds, old.PressureSum));
        var @new = Assert.Single(after[Cpap]);
        Assert.Equal((40L, 40 * 60, 480.0), (@new.Readings, @new.UsageSeconds, @new.PressureSum));
        Assert.Empty(elsewhere[Cpap]);
    }

    [Fact]
    public async Task Retention_removes_the_hours_before_the_cutoff()
    {
        var store = new CpapPostgresStore(DataSource, 30, Clock, Logger<CpapPostgresStore>());
        await store.MigrateAsync(CancellationToken.None);
        var old = Clock.GetUtcNow().AddDays(-40);
        await store.WriteAsync([Readings.Cpap(1, old), Readings.Cpap(2, Clock.GetUtcNow().AddHours(-1))], CancellationToken.None);

        await store.ApplyRetentionAsync(Clock.GetUtcNow(), CancellationToken.None);

        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM cpap_hourly"));
    }

    internal static List<StoredReading> EcgHourOfReadings(DateTimeOffset hour) =>
        [.. Enumerable.Range(0, 60).Select(i =>
        {
            var afib = i < 6;
            var pvc = i is >= 6 and < 9;
            return Readings.Ecg(i + 1, hour.AddMinutes(i).AddSeconds(30), heartRate: afib ? 120 : 60, qt: afib ? 360 : 400,
                arrhythmia: afib ? "AFib" : pvc ? "PVC" : "none", quality: i < 45 ? "good" : "fair", hrv: i < 50 ? 30 : 150);
        })];

    internal static List<StoredReading> OxygenHourOfReadings(DateTimeOffset hour) =>
        [.. Enumerable.Range(0, 60).Select(i =>
        {
            // In use (2 L/min) for minutes 0-49; purity below 85 % in minutes 0-6 and in minute 55 (not in use).
            var inUse = i < 50;
            var lowPurity = i < 7 || i == 55;
            var alarm = i < 3 ? "LOW_PURITY" : i == 30 ? "E07" : null;
            return Readings.Oxygen(i + 1, hour.AddMinutes(i).AddSeconds(10), purity: lowPurity ? 80 : 93, flow: inUse ? 2 : 0, alarm: alarm);
        })];

    private async Task<CpapPostgresStore> CpapStoreAsync()
    {
        var store = new CpapPostgresStore(DataSource, 365, Clock, Logger<CpapPostgresStore>());
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    private static async Task<List<CpapHour>> CpapHoursAsync(CpapPostgresStore store) =>
        [.. (await store.Hours.HoursAsync([new RollupScope(Cpap, null)], Hour.AddDays(-1), Hour.AddDays(1), CancellationToken.None))[Cpap]];

    private static async Task<List<OxygenHour>> OxygenHoursAsync(OxygenStore store) =>
        [.. (await store.Hours.HoursAsync([new RollupScope("OXY-8844-5521", null)], Hour.AddDays(-1), Hour.AddDays(1), CancellationToken.None))["OXY-8844-5521"]];

    private static string Comparable(OxygenHour hour) =>
        $"{hour.Hour:O} {hour.Readings} {hour.UseMinutes} {hour.FlowSum} {hour.FlowCount} {hour.LowPurityMinutes} "
        + $"{string.Join(",", hour.Alarms.Select(a => $"{a.Key}={a.Value}"))} {hour.FirstReceivedAt:O} {hour.LastReceivedAt:O}";
}
