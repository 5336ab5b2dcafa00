using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Oxygen;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Analytics;

/// <summary>
/// The per-metric hourly rollups the PostgreSQL stores keep for the trend summaries: hours and days with the numbers of
/// the readings, counted once however often a batch is stored, partial hours at the ends of a range, ownership windows,
/// and the backfill of readings stored before the rollup existed.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class MetricRollupTests(PostgresServer server) : PostgresTest(server)
{
    private const string Oxygen = "OXY-8844-5521";
    private const string Ecg = "ECG-7711-0045";
    private const string Cpap = "CPAP-2301-9912";
    private static readonly DateTimeOffset Day = new(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Hours_and_days_have_the_count_mean_min_max_and_alarms_of_the_readings()
    {
        var store = await OxygenStoreAsync();
        var batch = ThreeHours();
        await store.WriteAsync(batch, CancellationToken.None);

        var hours = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None);

        // Hour 1: purity 90..95 (6 readings, one alarm); hour 2: 80 and 100; hour 5: one reading of 93 with an alarm.
        Assert.Equal(
            [(Day.AddHours(1), 6L, 90.0, 92.5, 95.0, 1L), (Day.AddHours(2), 2L, 80.0, 90.0, 100.0, 0L), (Day.AddHours(5), 1L, 93.0, 93.0, 93.0, 1L)],
            hours.Select(Tuple));

        var days = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day.AddDays(-1), Day.AddDays(2), SummaryBucket.Day), CancellationToken.None);
        var day = Assert.Single(days);
        Assert.Equal((Day, 9L, 80.0, Round((90 + 91 + 92 + 93 + 94 + 95 + 80 + 100 + 93) / 9.0), 100.0, 2L), Tuple(day));
    }

    [Fact]
    public async Task A_batch_stored_again_or_journaled_again_counts_once()
    {
        var store = await OxygenStoreAsync();
        var batch = ThreeHours();
        await store.WriteAsync(batch, CancellationToken.None);
        var first = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None);

        Assert.Equal(0, await store.WriteAsync(batch, CancellationToken.None));
        var restarted = await OxygenStoreAsync();
        var again = batch.Select(r => r with { Id = ReadingId.From(r.GatewayId, 2, r.Sequence), Epoch = 2 }).ToList();
        Assert.Equal(0, await restarted.WriteAsync(again, CancellationToken.None));
        // Partly stored before: only the new reading is added.
        Assert.Equal(1, await restarted.WriteAsync([.. batch, Readings.Oxygen(50, Day.AddHours(2).AddMinutes(30), purity: 90)], CancellationToken.None));

        var hours = await restarted.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal(first[0], hours[0]);
        Assert.Equal((Day.AddHours(2), 3L, 80.0, 90.0, 100.0, 0L), Tuple(hours[1]));
        Assert.Equal(first[2], hours[2]);
    }

    [Fact]
    public async Task A_range_that_starts_and_ends_inside_hours_counts_only_the_readings_in_it()
    {
        var store = await OxygenStoreAsync();
        await store.WriteAsync(ThreeHours(), CancellationToken.None);

        // 01:25-02:05: the readings of 01:30, 01:40 and 01:50 (93, 94, 95) and of 02:00 (80).
        var hours = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day.AddHours(1).AddMinutes(25), Day.AddHours(2).AddMinutes(5), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal([(Day.AddHours(1), 3L, 93.0, 94.0, 95.0, 0L), (Day.AddHours(2), 1L, 80.0, 80.0, 80.0, 0L)], hours.Select(Tuple));

        // 01:25-05:30 by day: the partial hours at both ends and the whole hours between, added up.
        var days = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day.AddHours(1).AddMinutes(25), Day.AddHours(5).AddMinutes(30), SummaryBucket.Day), CancellationToken.None);
        Assert.Equal((Day, 6L, 80.0, 92.5, 100.0, 1L), Tuple(Assert.Single(days)));

        // Inside one hour.
        var inside = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day.AddHours(1).AddMinutes(5), Day.AddHours(1).AddMinutes(25), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal([(Day.AddHours(1), 2L, 91.0, 91.5, 92.0, 1L)], inside.Select(Tuple));
    }

    [Fact]
    public async Task Each_clinic_sees_only_the_readings_received_in_its_ownership_period()
    {
        var store = await OxygenStoreAsync();
        var batch = ThreeHours();
        await store.WriteAsync(batch, CancellationToken.None);
        // The device changed clinics between the readings of 01:20 and 01:30 (received times).
        var transfer = batch[3].GatewayReceivedAt;

        var before = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour) with { ReceivedWithin = [new ReceivedWindow(Day.AddDays(-30), transfer)] }, CancellationToken.None);
        var after = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Day) with { ReceivedWithin = [new ReceivedWindow(transfer, null)] }, CancellationToken.None);
        var never = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Day) with { ReceivedWithin = [new ReceivedWindow(Day.AddDays(3), null)] }, CancellationToken.None);

        Assert.Equal([(Day.AddHours(1), 3L, 90.0, 91.0, 92.0, 1L)], before.Select(Tuple));
        Assert.Equal((Day, 6L, 80.0, 92.5, 100.0, 1L), Tuple(Assert.Single(after)));
        Assert.Empty(never);
    }

    [Fact]
    public async Task The_migration_backfills_the_readings_stored_before_the_rollup_existed()
    {
        var store = await OxygenStoreAsync();
        await store.WriteAsync(ThreeHours(), CancellationToken.None);
        var live = await store.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None);
        await ScalarAsync<int>("DROP TABLE oxygen_metric_hourly; DELETE FROM schema_migrations WHERE store = 'oxygen_metric_rollups'; SELECT 1");

        var upgraded = await OxygenStoreAsync();

        Assert.Equal(3, await ScalarAsync<long>("SELECT count(*) FROM oxygen_metric_hourly"));
        Assert.Equal(live, await upgraded.SummarizeAsync(Query(ReadingMetrics.OxygenPurityPct, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None));
    }

    [Fact]
    public async Task A_metric_some_readings_lack_is_counted_only_where_it_was_sent_and_ECG_arrhythmias_are_alarms()
    {
        var store = new EcgStore(DataSource, 365, Clock, Logger<EcgStore>());
        await store.MigrateAsync(CancellationToken.None);
        var hour = Day.AddHours(3);
        await store.WriteAsync(Readings.EcgHour(hour), CancellationToken.None);
        await store.WriteAsync([Readings.Ecg(100, hour.AddHours(1), heartRate: 70)], CancellationToken.None);

        var hrv = await store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Ecg), ReadingMetrics.HrvRmssdMs, Day, Day.AddDays(1), SummaryBucket.Hour), CancellationToken.None);
        var heartRate = await store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Ecg), ReadingMetrics.HeartRateBpm, Day, Day.AddDays(1), SummaryBucket.Day), CancellationToken.None);

        // RMSSD 30 ms on 50 readings and 150 on 10 in the first hour; none sent in the second, so no bucket for it.
        Assert.Equal([(hour, 60L, 30.0, 50.0, 150.0, 9L)], hrv.Select(Tuple));
        // 6 AFib and 3 PVC readings are alarms; 54 at 60 bpm, 6 at 120 and one at 70.
        Assert.Equal((Day, 61L, 60.0, Round(((54 * 60) + (6 * 120) + 70) / 61.0), 120.0, 9L), Tuple(Assert.Single(heartRate)));
    }

    [Fact]
    public async Task CPAP_urgent_readings_are_the_alarms_and_a_metric_of_another_kind_is_refused()
    {
        var store = new CpapPostgresStore(DataSource, 365, Clock, Logger<CpapPostgresStore>());
        await store.MigrateAsync(CancellationToken.None);
        await store.WriteAsync(
        [
            Readings.Cpap(1, Day.AddMinutes(1), pressure: 8),
            Readings.Cpap(2, Day.AddMinutes(2), pressure: 12, urgent: true),
            Readings.Cpap(3, Day.AddMinutes(3), pressure: 10),
        ], CancellationToken.None);

        var pressure = await store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Cpap), ReadingMetrics.PressureCmH2O, Day, Day.AddHours(1), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal([(Day, 3L, 8.0, 10.0, 12.0, 1L)], pressure.Select(Tuple));

        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Cpap), ReadingMetrics.FlowRateLpm, Day, Day.AddHours(1), SummaryBucket.Hour), CancellationToken.None));
        Assert.Contains("flow_rate_lpm", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Hour 1: one reading every 10 minutes, purity 90, 91 … 95, the one at 01:20 with an alarm; hour 2: 80 at 02:00 and
    /// 100 at 02:40; hour 5: 93 at 05:15 with an alarm. Each received 2 s after its device time.
    /// </summary>
    private static List<StoredReading> ThreeHours()
    {
        var readings = new List<StoredReading>();
        for (var i = 0; i < 6; i++)
        {
            readings.Add(Readings.Oxygen(i + 1, Day.AddHours(1).AddMinutes(i * 10), purity: 90 + i, alarm: i == 2 ? "E03" : null));
        }
        readings.Add(Readings.Oxygen(7, Day.AddHours(2), purity: 80));
        readings.Add(Readings.Oxygen(8, Day.AddHours(2).AddMinutes(40), purity: 100));
        readings.Add(Readings.Oxygen(9, Day.AddHours(5).AddMinutes(15), purity: 93, alarm: "E01"));
        return [.. readings.Select(r => r with { GatewayReceivedAt = r.DeviceTime.AddSeconds(2) })];
    }

    private async Task<OxygenStore> OxygenStoreAsync()
    {
        var store = new OxygenStore(DataSource, 365, Clock, Logger<OxygenStore>());
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    private static SummaryQuery Query(string metric, DateTimeOffset from, DateTimeOffset to, SummaryBucket bucket) =>
        new(SerialNumber.Parse(Oxygen), metric, from, to, bucket);

    private static (DateTimeOffset, long, double, double, double, long) Tuple(SummaryRow row) =>
        (row.BucketStart, row.Count, row.Min, Round(row.Avg), row.Max, row.Alarms);

    private static double Round(double value) => Math.Round(value, 9);
}
