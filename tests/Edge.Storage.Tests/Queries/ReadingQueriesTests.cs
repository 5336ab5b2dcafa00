using System.Text.Json.Nodes;
using Edge.Contracts.Devices;
using Edge.Storage.Ecg;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Queries;

/// <summary>
/// The read side every PostgreSQL reading store shares, run against a real server once per store by the sealed classes
/// that fill in the kind: its serials, a metric, how to make a reading with a given value, and what counts as an alarm.
/// </summary>
public abstract class ReadingQueriesTests(PostgresServer server) : PostgresTest(server)
{
    /// <summary>Readings of the main data set: from 31 December 2025 18:00 UTC across the new year (two partitions).</summary>
    protected static readonly DateTimeOffset Start = new(2025, 12, 31, 18, 0, 0, TimeSpan.Zero);

    protected IReadingStore Store { get; private set; } = null!;

    /// <summary>The device whose readings are queried.</summary>
    protected abstract string Serial { get; }

    /// <summary>Another device of the same kind; its readings share the table and must never show up.</summary>
    protected abstract string OtherSerial { get; }

    /// <summary>A device of the same kind without readings.</summary>
    protected abstract string SilentSerial { get; }

    /// <summary>A serial of another kind, which the store refuses.</summary>
    protected abstract string ForeignSerial { get; }

    /// <summary>The metric <see cref="Reading"/> sets.</summary>
    protected abstract string Metric { get; }

    /// <summary>A metric name of another kind, which the store refuses.</summary>
    protected abstract string ForeignMetric { get; }

    protected abstract string Table { get; }

    protected abstract IReadingStore NewStore(NpgsqlDataSource dataSource);

    /// <summary>The store's migrations, to set up a database as an earlier release left it.</summary>
    private protected abstract IReadOnlyList<Migration> Migrations { get; }

    private protected abstract PostgresTelemetryQueries QueriesOf(IReadingStore store);

    /// <summary>A reading of <paramref name="serial"/> (default <see cref="Serial"/>) whose <see cref="Metric"/> is <paramref name="value"/>; not an alarm.</summary>
    protected abstract StoredReading Reading(long sequence, DateTimeOffset time, double value, string? serial = null, string gateway = Readings.Gateway);

    /// <summary>Readings at <paramref name="time"/> that differ in urgency and the kind's alarm signal, each with whether "alarms only" returns it.</summary>
    protected abstract IReadOnlyList<(StoredReading Reading, bool Alarm)> AlarmCases(long firstSequence, DateTimeOffset time);

    /// <summary>Asserts that <paramref name="payloadJson"/> is the payload of <paramref name="written"/>.</summary>
    protected abstract void AssertPayload(StoredReading written, string payloadJson);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Store = NewStore(DataSource);
        await Store.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Paging_with_small_limits_returns_every_reading_once_in_device_time_then_id_order()
    {
        var written = await WriteDataSetAsync(150);

        foreach (var limit in (int[])[1, 7, 50, 149, 150, 1000])
        {
            var pages = await PageAllAsync(Query(limit: limit));

            Assert.All(pages, page => Assert.InRange(page.Items.Count, 1, limit));
            Assert.Equal(Ordered(written.Where(r => r.Serial.Value == Serial)).Select(r => r.Id), pages.SelectMany(p => p.Items).Select(r => r.Id));
            Assert.Null(pages[^1].Next);
            Assert.All(pages.SkipLast(1), page => Assert.Equal(page.Items[^1].Cursor, page.Next));
        }
    }

    [Fact]
    public async Task A_row_carries_the_reading_as_stored_and_the_device_payload()
    {
        var deviceTime = new DateTimeOffset(2026, 1, 14, 10, 22, 7, 123, TimeSpan.FromHours(2)).AddTicks(4560);
        var reading = Reading(1042, deviceTime, 77.5);
        await Store.WriteAsync([reading], CancellationToken.None);

        var row = Assert.Single((await Store.QueryAsync(Query(from: deviceTime.AddDays(-1), to: deviceTime.AddDays(1)), CancellationToken.None)).Items);

        Assert.Equal(reading.Id, row.Id);
        Assert.Equal(Serial, row.Serial);
        Assert.Equal(deviceTime, row.DeviceTime);
        Assert.Equal(TimeSpan.Zero, row.DeviceTime.Offset);
        Assert.Equal(reading.GatewayReceivedAt.UtcTicks / 10, row.GatewayReceivedAt.UtcTicks / 10);
        Assert.Equal(Readings.January15, row.StoredAt);
        Assert.Equal(Readings.Gateway, row.GatewayId);
        Assert.Equal(reading.Epoch, row.Epoch);
        Assert.Equal(1042, row.Sequence);
        Assert.Equal(reading.Urgent, row.Urgent);
        AssertPayload(reading, row.PayloadJson);
    }

    [Fact]
    public async Task Readings_stored_while_paging_are_never_returned_twice_and_no_earlier_reading_is_skipped()
    {
        var before = await WriteDataSetAsync(120);
        var existing = before.Where(r => r.Serial.Value == Serial).ToList();
        var ahead = new List<StoredReading>();
        var behind = new List<StoredReading>();
        var returned = new List<TelemetryRow>();
        var end = existing.Max(r => r.DeviceTime).AddDays(1);

        // A second replica writes all the time, at device times spread over the existing readings, while the pages are read.
        using var stop = new CancellationTokenSource();
        var firstWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = NewStore(NewDataSource());
        var span = (existing.Max(r => r.DeviceTime) - Start).TotalSeconds;
        var concurrent = Task.Run(async () =>
        {
            var written = 0;
            for (var sequence = 1L; !stop.IsCancellationRequested; sequence += 4)
            {
                var batch = Enumerable.Range(0, 4)
                    .Select(i => Reading(sequence + i, Start.AddSeconds((sequence + i) * 397 % span), 61, gateway: "gw-concurrent"))
                    .ToList();
                written += await writer.WriteAsync(batch, CancellationToken.None);
                firstWrite.TrySetResult();
            }
            return written;
        });
        await firstWrite.Task.WaitAsync(TimeSpan.FromSeconds(30));

        TelemetryCursor? cursor = null;
        var sequenceOfTest = 10_000L;
        do
        {
            var page = await Store.QueryAsync(Query(limit: 9, to: end) with { After = cursor }, CancellationToken.None);
            returned.AddRange(page.Items);
            cursor = page.Next;
            if (cursor is not null)
            {
                // Between pages: one reading behind the cursor, one ahead of it, one at the cursor's own time.
                // Values unique to each: the same device, time and value would be the same reading, stored once.
                var late = Reading(sequenceOfTest, cursor.DeviceTime.AddMinutes(-3), 62 + ((sequenceOfTest++ - 10_000) / 1000.0));
                var early = Reading(sequenceOfTest, cursor.DeviceTime.AddMinutes(3), 62 + ((sequenceOfTest++ - 10_000) / 1000.0));
                var tie = Reading(sequenceOfTest, cursor.DeviceTime, 62 + ((sequenceOfTest++ - 10_000) / 1000.0));
                await Store.WriteAsync([late, early, tie], CancellationToken.None);
                behind.Add(late);
                ahead.Add(early);
                (Compare(tie, cursor) > 0 ? ahead : behind).Add(tie);
            }
        }
        while (cursor is not null);
        await stop.CancelAsync();
        Assert.True(await concurrent > 0);

        Assert.Equal(returned.Count, returned.Select(r => r.Id).Distinct().Count());
        Assert.All(returned.Zip(returned.Skip(1)), pair => Assert.True(Compare(pair.First, pair.Second) < 0));
        var ids = returned.Select(r => r.Id).ToHashSet();
        Assert.All(existing, r => Assert.Contains(r.Id, ids));
        Assert.All(ahead, r => Assert.Contains(r.Id, ids));
        Assert.All(behind, r => Assert.DoesNotContain(r.Id, ids));
    }

    [Fact]
    public async Task From_is_inclusive_and_To_is_exclusive()
    {
        var from = new DateTimeOffset(2026, 1, 10, 8, 0, 0, TimeSpan.Zero);
        var to = from.AddHours(1);
        var tick = TimeSpan.FromTicks(10); // one microsecond, PostgreSQL's resolution
        await Store.WriteAsync(
            [Reading(1, from - tick, 60), Reading(2, from, 61), Reading(3, to - tick, 62), Reading(4, to, 63), Reading(5, from.AddMinutes(30), 64)],
            CancellationToken.None);

        var page = await Store.QueryAsync(Query(from: from, to: to), CancellationToken.None);

        Assert.Equal([2L, 5, 3], page.Items.Select(r => r.Sequence));
        Assert.Empty((await Store.QueryAsync(Query(from: to, to: from), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task The_widest_range_from_MinValue_to_MaxValue_is_every_reading_of_the_device()
    {
        var written = await WriteDataSetAsync(25);
        // A device clock in 1970 puts its reading in the default partition; the widest range still finds it.
        await Store.WriteAsync([Reading(999, DateTimeOffset.UnixEpoch, 70)], CancellationToken.None);

        var page = await Store.QueryAsync(Query(from: DateTimeOffset.MinValue, to: DateTimeOffset.MaxValue), CancellationToken.None);

        Assert.Equal(26, page.Items.Count);
        Assert.Equal(999, page.Items[0].Sequence);
        Assert.Equal(Ordered(written.Where(r => r.Serial.Value == Serial)).Select(r => r.Id), page.Items.Skip(1).Select(r => r.Id));
    }

    [Fact]
    public async Task Received_windows_keep_only_readings_the_gateway_received_in_one_of_them()
    {
        // Device times go forward while received times go backward (a device clock set back): the windows follow the
        // gateway's received time, never the device's.
        var readings = Enumerable.Range(0, 6)
            .Select(i => Reading(i + 1, Start.AddMinutes(i), 10 + i) with { GatewayReceivedAt = Start.AddMinutes(65 - i) })
            .ToList();
        await Store.WriteAsync(readings, CancellationToken.None);
        // [60, 62) holds the readings received at 60 and 61 (i = 5, 4); the open window from 65 the one received at 65 (i = 0).
        ReceivedWindow[] windows = [new(Start.AddMinutes(60), Start.AddMinutes(62)), new(Start.AddMinutes(65), null)];

        var page = await Store.QueryAsync(Query() with { ReceivedWithin = windows }, CancellationToken.None);
        Assert.Equal([readings[0].Id, readings[4].Id, readings[5].Id], page.Items.Select(r => r.Id));
        var summary = await Store.SummarizeAsync(
            new SummaryQuery(SerialNumber.Parse(Serial), Metric, Start.AddDays(-1), Start.AddDays(1), SummaryBucket.Day) { ReceivedWithin = windows },
            CancellationToken.None);
        Assert.Equal(3, summary.Sum(b => b.Count));

        // No window: nothing (a clinic that never held the device); null: everything (an admin).
        Assert.Empty((await Store.QueryAsync(Query() with { ReceivedWithin = [] }, CancellationToken.None)).Items);
        Assert.Empty(await Store.SummarizeAsync(
            new SummaryQuery(SerialNumber.Parse(Serial), Metric, Start.AddDays(-1), Start.AddDays(1), SummaryBucket.Day) { ReceivedWithin = [] },
            CancellationToken.None));
        Assert.Equal(6, (await Store.QueryAsync(Query(), CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task Alarms_only_returns_urgent_readings_and_those_with_the_kinds_alarm_signal()
    {
        var time = new DateTimeOffset(2026, 1, 12, 9, 0, 0, TimeSpan.Zero);
        var cases = AlarmCases(1, time);
        await Store.WriteAsync([.. cases.Select(c => c.Reading)], CancellationToken.None);

        var all = await Store.QueryAsync(Query(from: time.AddHours(-1), to: time.AddHours(1)), CancellationToken.None);
        var alarms = await PageAllAsync(Query(limit: 2, from: time.AddHours(-1), to: time.AddHours(1)) with { AlarmsOnly = true });

        Assert.Equal(cases.Count, all.Items.Count);
        Assert.Equal(
            cases.Where(c => c.Alarm).Select(c => c.Reading.Id).Order(),
            alarms.SelectMany(p => p.Items).Select(r => r.Id).Order());
    }

    [Fact]
    public async Task Min_and_max_filters_are_inclusive_bounds_that_all_must_hold()
    {
        var written = (await WriteDataSetAsync(100)).Where(r => r.Serial.Value == Serial).ToList();
        List<StoredReading> Expected(Func<double, bool> keep) => Ordered(written.Where(r => keep(Value(r))));

        async Task<List<Guid>> IdsAsync(params MetricFilter[] filters) =>
            [.. (await PageAllAsync(Query(limit: 13) with { Filters = filters })).SelectMany(p => p.Items).Select(r => r.Id)];

        Assert.Contains(written, r => Value(r) == 60);
        Assert.Contains(written, r => Value(r) == 80);
        Assert.Equal(Expected(v => v >= 60).Select(r => r.Id), await IdsAsync(new MetricFilter(Metric, 60, null)));
        Assert.Equal(Expected(v => v <= 80).Select(r => r.Id), await IdsAsync(new MetricFilter(Metric, null, 80)));
        Assert.Equal(Expected(v => v is >= 60 and <= 80).Select(r => r.Id), await IdsAsync(new MetricFilter(Metric, 60, 80)));
        Assert.Equal(Expected(v => v is >= 60 and <= 80).Select(r => r.Id), await IdsAsync(new MetricFilter(Metric, 60, null), new MetricFilter(Metric, null, 80)));
        Assert.Empty(await IdsAsync(new MetricFilter(Metric, 60, null), new MetricFilter(Metric, null, 59.5)));
    }

    [Fact]
    public async Task An_unknown_metric_is_refused_with_its_name_and_the_allowed_ones_and_reaches_no_SQL()
    {
        await WriteDataSetAsync(10);
        var allowed = ReadingMetrics.For(SerialNumber.Parse(Serial).Kind);

        foreach (var metric in (string[])["bogus", ForeignMetric, Metric.ToUpperInvariant(), $"{Metric}; DROP TABLE {Table}; --", ""])
        {
            var query = await Assert.ThrowsAsync<ArgumentException>(() =>
                Store.QueryAsync(Query() with { Filters = [new MetricFilter(metric, 1, null)] }, CancellationToken.None));
            var summary = await Assert.ThrowsAsync<ArgumentException>(() =>
                Store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Serial), metric, Start, Start.AddDays(3), SummaryBucket.Hour), CancellationToken.None));

            foreach (var error in (ArgumentException[])[query, summary])
            {
                Assert.Contains(metric.Length > 0 ? $"'{metric[..Math.Min(metric.Length, 40)]}" : "no metric", error.Message, StringComparison.Ordinal);
                Assert.All(allowed, name => Assert.Contains(name, error.Message, StringComparison.Ordinal));
            }
        }
        Assert.Equal(20L, await ScalarAsync<long>($"SELECT count(*) FROM {Table}"));
    }

    [Fact]
    public async Task Every_metric_of_the_kind_can_be_filtered_on_and_summarized()
    {
        await WriteDataSetAsync(20);

        foreach (var metric in ReadingMetrics.For(SerialNumber.Parse(Serial).Kind))
        {
            var page = await Store.QueryAsync(Query() with { Filters = [new MetricFilter(metric, -1000, 1000)] }, CancellationToken.None);
            var summary = await Store.SummarizeAsync(
                new SummaryQuery(SerialNumber.Parse(Serial), metric, Start.AddDays(-1), Start.AddDays(5), SummaryBucket.Day), CancellationToken.None);

            Assert.Equal(20, page.Items.Count);
            Assert.Equal(20L, summary.Sum(s => s.Count));
        }
    }

    [Fact]
    public async Task A_serial_of_another_kind_and_a_bound_that_is_not_a_number_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.QueryAsync(Query() with { Serial = SerialNumber.Parse(ForeignSerial) }, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(ForeignSerial), Metric, Start, Start.AddDays(1), SummaryBucket.Day), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.QueryAsync(Query() with { Filters = [new MetricFilter(Metric, double.NaN, null)] }, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.QueryAsync(Query() with { Serial = default }, CancellationToken.None));
    }

    [Fact]
    public async Task A_garbled_cursor_is_refused_with_a_reason_and_a_sound_one_continues_where_it_left_off()
    {
        await WriteDataSetAsync(30);
        var first = await Store.QueryAsync(Query(limit: 10), CancellationToken.None);
        var token = first.Next!.Encode();

        var flipped = token[..5] + (token[5] == 'A' ? 'B' : 'A') + token[6..];
        foreach (var garbled in (string[])[flipped, token[..^1], token + "A", token.Replace(token[3], '*'), "", "not a cursor", "%00%00"])
        {
            Assert.False(TelemetryCursor.TryParse(garbled, out var cursor, out var reason));
            Assert.Null(cursor);
            Assert.StartsWith("cursor", reason, StringComparison.Ordinal);
        }

        Assert.True(TelemetryCursor.TryParse(token, out var parsed, out var none));
        Assert.Empty(none);
        var second = await Store.QueryAsync(Query(limit: 10) with { After = parsed }, CancellationToken.None);
        var both = await Store.QueryAsync(Query(limit: 20), CancellationToken.None);
        Assert.Equal(both.Items.Select(r => r.Id), first.Items.Concat(second.Items).Select(r => r.Id));
    }

    [Fact]
    public async Task A_device_without_readings_gets_an_empty_page_without_a_next_cursor_and_an_empty_summary()
    {
        await WriteDataSetAsync(20);

        var page = await Store.QueryAsync(Query() with { Serial = SerialNumber.Parse(SilentSerial) }, CancellationToken.None);
        var summary = await Store.SummarizeAsync(
            new SummaryQuery(SerialNumber.Parse(SilentSerial), Metric, Start, Start.AddDays(3), SummaryBucket.Hour), CancellationToken.None);

        Assert.Empty(page.Items);
        Assert.Null(page.Next);
        Assert.Empty(summary);
    }

    [Fact]
    public async Task The_limit_is_clamped_to_1_through_1000()
    {
        var batch = Enumerable.Range(0, 1001).Select(i => Reading(i + 1, Start.AddSeconds(i), 50 + (i % 50))).ToList();
        await Store.WriteAsync(batch, CancellationToken.None);

        var none = await Store.QueryAsync(Query(limit: 0), CancellationToken.None);
        var huge = await Store.QueryAsync(Query(limit: int.MaxValue), CancellationToken.None);

        Assert.Single(none.Items);
        Assert.NotNull(none.Next);
        Assert.Equal(1000, huge.Items.Count);
        Assert.Equal(huge.Items[^1].Cursor, huge.Next);
    }

    [Theory]
    [InlineData(SummaryBucket.Hour)]
    [InlineData(SummaryBucket.Day)]
    public async Task A_summary_gives_count_min_mean_and_max_per_UTC_bucket_without_empty_buckets(SummaryBucket bucket)
    {
        var written = await WriteDataSetAsync(400);
        var from = Start.AddMinutes(95);
        var to = Start.AddHours(50).AddMinutes(10);

        var summary = await Store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Serial), Metric, from, to, bucket), CancellationToken.None);

        var expected = written
            .Where(r => r.Serial.Value == Serial && r.DeviceTime >= from && r.DeviceTime < to)
            .GroupBy(r => BucketOf(r.DeviceTime, bucket))
            .OrderBy(g => g.Key)
            .Select(g => (Start: g.Key, Count: (long)g.Count(), Min: g.Min(Value), Avg: g.Average(Value), Max: g.Max(Value)))
            .ToList();
        Assert.True(expected.Count > 1);
        Assert.Equal(expected.Select(e => (e.Start, e.Count, e.Min, e.Max)), summary.Select(s => (s.BucketStart, s.Count, s.Min, s.Max)));
        Assert.All(expected.Zip(summary), pair => Assert.Equal(pair.First.Avg, pair.Second.Avg, tolerance: 1e-9));
        Assert.All(summary, s => Assert.Equal(TimeSpan.Zero, s.BucketStart.Offset));
        if (bucket == SummaryBucket.Hour)
        {
            // The data set leaves some hours without readings; they are left out, not returned as zeros.
            Assert.Contains(summary.Zip(summary.Skip(1)), pair => pair.Second.BucketStart - pair.First.BucketStart > TimeSpan.FromHours(1));
        }
    }

    [Fact]
    public async Task Upgrading_a_database_that_holds_readings_indexes_every_partition_for_keyset_pages()
    {
        await using (var drop = Probe.CreateCommand($"DROP TABLE {Table}; DELETE FROM schema_migrations"))
        {
            await drop.ExecuteNonQueryAsync();
        }
        await SchemaMigrator.ApplyAsync(DataSource, Store.Name, [Migrations[0]], Logger<ReadingQueriesTests>(), CancellationToken.None);
        // Release 1's rows are written by today's code, which also writes the content id (migration 4 adds it if absent),
        // ECG's heart-rate variability (migration 5) and the hourly rollups (their table is dropped again below: release 1
        // had none, and the upgrade creates and backfills it).
        var columns = Table == EcgStore.Table ? "ADD COLUMN content_id uuid, ADD COLUMN hrv_rmssd_ms double precision" : "ADD COLUMN content_id uuid";
        await using (var column = Probe.CreateCommand($"ALTER TABLE {Table} {columns}"))
        {
            await column.ExecuteNonQueryAsync();
        }
        var release1 = NewStore(NewDataSource());
        await release1.WriteAsync([Reading(1, Start, 60), Reading(2, Start.AddDays(1), 61), Reading(3, DateTimeOffset.UnixEpoch, 62)], CancellationToken.None);
        await using (var rollups = Probe.CreateCommand("DROP TABLE IF EXISTS cpap_hourly, oxygen_hourly, ecg_hourly, cpap_metric_hourly, oxygen_metric_hourly, ecg_metric_hourly"))
        {
            await rollups.ExecuteNonQueryAsync();
        }

        await Store.MigrateAsync(CancellationToken.None);

        Assert.Equal(Migrations.Select(m => $"{Store.Name}:{m.Version}"), await ColumnAsync($"SELECT store || ':' || version FROM schema_migrations WHERE store = '{Store.Name}' ORDER BY version"));
        var partitions = await PartitionsAsync(Table);
        Assert.Contains($"{Table}_default", partitions);
        Assert.Contains($"{Table}_2025_12", partitions);
        Assert.Empty(await ColumnAsync($"""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '{Table}'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND pg_get_indexdef(x.indexrelid) LIKE '%(serial, device_time, gateway_received_at, epoch, seq, id)')
            """));
        var page = await Store.QueryAsync(Query(limit: 2, from: DateTimeOffset.MinValue, to: DateTimeOffset.MaxValue), CancellationToken.None);
        Assert.Equal([3L, 1], page.Items.Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_page_is_one_index_range_scan_of_the_partitions_the_range_touches()
    {
        // Enough readings of enough devices that the planner's choice is the one it makes in production: 12 devices, one
        // reading every 30 s for 40 hours across the new year, so a page of 100 is a small part of the range.
        var batch = new List<StoredReading>();
        for (var device = 0; device < 12; device++)
        {
            var serial = $"{Serial[..Serial.IndexOf('-', StringComparison.Ordinal)]}-4000-{device:D4}";
            for (var i = 0; i < 4800; i++)
            {
                batch.Add(Reading(device * 10_000 + i + 1, Start.AddSeconds(i * 30), 50 + (i % 40), serial));
            }
        }
        await Store.WriteAsync(batch, CancellationToken.None);
        await using (var analyze = Probe.CreateCommand($"ANALYZE {Table}"))
        {
            await analyze.ExecuteNonQueryAsync();
        }
        var serialOfOne = batch[5 * 4800].Serial;
        var query = Query(limit: 100, from: new DateTimeOffset(2026, 1, 1, 6, 0, 0, TimeSpan.Zero), to: new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero)) with
        {
            Serial = serialOfOne,
            After = new TelemetryCursor(new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero), 1, 1, Guid.Empty),
        };

        var plan = await ExplainAsync(QueriesOf(Store).BuildQuery(query));
        var acrossMonths = await ExplainAsync(QueriesOf(Store).BuildQuery(query with { From = Start, After = null }));

        // Inside January: the January partition only, one range scan of the keyset index bounded by serial, time and cursor,
        // rows taken in index order up to the limit (no sort).
        Assert.StartsWith("Limit", plan[0], StringComparison.Ordinal);
        Assert.DoesNotContain(plan, line => line.Contains("Sort", StringComparison.Ordinal) || line.Contains("Seq Scan", StringComparison.Ordinal));
        var scan = Assert.Single(plan, line => line.Contains("Scan", StringComparison.Ordinal));
        Assert.Matches($"Index Scan using {Table}_2026_01_serial_device_time_gateway_\\w+ on {Table}_2026_01 ", scan);
        var bounds = Assert.Single(plan, line => line.Contains("Index Cond:", StringComparison.Ordinal));
        Assert.Contains("(serial = ", bounds, StringComparison.Ordinal);
        Assert.Contains("(device_time >= ", bounds, StringComparison.Ordinal);
        Assert.Contains("(device_time < ", bounds, StringComparison.Ordinal);
        Assert.Contains("(ROW(device_time, gateway_received_at, epoch, seq, id) > ROW(", bounds, StringComparison.Ordinal);

        // From December into January: both partitions' index scans appended in partition order, still no sort.
        Assert.DoesNotContain(acrossMonths, line => line.Contains("Sort", StringComparison.Ordinal) || line.Contains("Seq Scan", StringComparison.Ordinal));
        var scans = acrossMonths.Where(line => line.Contains("Scan", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, scans.Count);
        Assert.Matches($"Index Scan using {Table}_2025_12_serial_device_time_gateway_\\w+ on {Table}_2025_12 ", scans[0]);
        Assert.Matches($"Index Scan using {Table}_2026_01_serial_device_time_gateway_\\w+ on {Table}_2026_01 ", scans[1]);
    }

    [Fact]
    public async Task Equal_device_times_come_back_in_arrival_order_across_a_page_boundary()
    {
        // A device with a one-second clock sends six readings within one second: the same device time. The gateway
        // received them in this order: two journal sequences within one receive tick, then later ticks, and the last
        // after an agent restart (a new journal epoch, sequences starting again).
        var at = Start.AddHours(3);
        var received = at.AddMilliseconds(100);
        StoredReading Arrived(long epoch, long sequence, DateTimeOffset receivedAt, double value) =>
            Reading(sequence, at, value) is var r
                ? r with { Id = Edge.Contracts.Identity.ReadingId.From(r.GatewayId, epoch, sequence), Epoch = epoch, GatewayReceivedAt = receivedAt }
                : throw new InvalidOperationException();
        List<StoredReading> arrival =
        [
            Arrived(7, 40, received, 61),
            Arrived(7, 41, received, 62),
            Arrived(7, 39, received.AddMilliseconds(1), 63),
            Arrived(7, 42, received.AddMilliseconds(2), 64),
            Arrived(7, 43, received.AddMilliseconds(3), 65),
            Arrived(8, 1, received.AddMilliseconds(4), 66),
        ];
        // The ids (hashes) alone would give another order: otherwise this test could pass by chance.
        Assert.NotEqual(arrival.Select(r => r.Id), arrival.OrderBy(r => Convert.ToHexString(r.Id.ToByteArray(bigEndian: true)), StringComparer.Ordinal).Select(r => r.Id));
        await Store.WriteAsync([.. arrival.AsEnumerable().Reverse()], CancellationToken.None);
        var (before, after) = (Reading(100, at.AddSeconds(-1), 60), Reading(101, at.AddSeconds(1), 67));
        await Store.WriteAsync([after, before], CancellationToken.None);

        var pages = await PageAllAsync(Query(limit: 2));

        Assert.Equal([before.Id, .. arrival.Select(r => r.Id), after.Id], pages.SelectMany(p => p.Items).Select(r => r.Id));
        Assert.Equal(4, pages.Count);
    }

    // ---- helpers ----

    protected TelemetryQuery Query(int limit = 100, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        new(SerialNumber.Parse(Serial), from ?? Start.AddDays(-1), to ?? Start.AddDays(5), limit, null, false, []);

    /// <summary>
    /// <paramref name="count"/> readings of <see cref="Serial"/> every 11 minutes from <see cref="Start"/>, with a
    /// two-hour gap, every fifth sharing the previous one's device time (a device with a one-second clock), values
    /// 50-98 including 60 and 80; and as many of <see cref="OtherSerial"/> at the same times. Written in shuffled batches.
    /// </summary>
    protected async Task<List<StoredReading>> WriteDataSetAsync(int count)
    {
        var readings = new List<StoredReading>(count * 2);
        var time = Start;
        for (var i = 0; i < count; i++)
        {
            if (i % 5 != 4)
            {
                time = time.AddMinutes(i == count / 3 ? 131 : 11).AddTicks(i * 17 * 10);
            }
            var value = 50 + (i * 13 % 49);
            readings.Add(Reading(i + 1, time, value));
            readings.Add(Reading(100_000 + i, time, 100 - value, OtherSerial));
        }
        var shuffled = readings.OrderBy(r => r.Id).ToList();
        for (var i = 0; i < shuffled.Count; i += 64)
        {
            await Store.WriteAsync(shuffled.GetRange(i, Math.Min(64, shuffled.Count - i)), CancellationToken.None);
        }
        return readings;
    }

    protected async Task<List<TelemetryPage>> PageAllAsync(TelemetryQuery query)
    {
        var pages = new List<TelemetryPage>();
        for (var cursor = query.After; ;)
        {
            var page = await Store.QueryAsync(query with { After = cursor }, CancellationToken.None);
            pages.Add(page);
            cursor = page.Next;
            if (cursor is null)
            {
                return pages;
            }
            Assert.True(pages.Count < 10_000, "paging does not end");
        }
    }

    protected abstract double Value(StoredReading reading);

    /// <summary>
    /// The keyset order: device time, then arrival (gateway received time, epoch, sequence), times at PostgreSQL's
    /// microsecond resolution, then the id's bytes as PostgreSQL compares uuids.
    /// </summary>
    protected static List<StoredReading> Ordered(IEnumerable<StoredReading> readings) =>
        [.. readings.OrderBy(r => r.DeviceTime.UtcTicks / 10).ThenBy(r => r.GatewayReceivedAt.UtcTicks / 10).ThenBy(r => r.Epoch).ThenBy(r => r.Sequence)
            .ThenBy(r => Convert.ToHexString(r.Id.ToByteArray(bigEndian: true)), StringComparer.Ordinal)];

    private static int Compare(TelemetryRow a, TelemetryRow b) => Compare(a.Cursor, b.Cursor);

    private static int Compare(StoredReading a, TelemetryCursor b) =>
        Compare(new TelemetryCursor(a.DeviceTime, a.GatewayReceivedAt, a.Epoch, a.Sequence, a.Id), b);

    private static int Compare(TelemetryCursor a, TelemetryCursor b)
    {
        var order = (a.DeviceTime.UtcTicks / 10).CompareTo(b.DeviceTime.UtcTicks / 10);
        order = order != 0 ? order : (a.ReceivedAt.UtcTicks / 10).CompareTo(b.ReceivedAt.UtcTicks / 10);
        order = order != 0 ? order : a.Epoch.CompareTo(b.Epoch);
        order = order != 0 ? order : a.Sequence.CompareTo(b.Sequence);
        return order != 0
            ? order
            : string.CompareOrdinal(Convert.ToHexString(a.Id.ToByteArray(bigEndian: true)), Convert.ToHexString(b.Id.ToByteArray(bigEndian: true)));
    }

    private static DateTimeOffset BucketOf(DateTimeOffset time, SummaryBucket bucket)
    {
        var utc = time.UtcDateTime;
        return bucket == SummaryBucket.Hour
            ? new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
    }

    private async Task<List<string>> ExplainAsync(NpgsqlCommand query)
    {
        await using (query)
        {
            query.CommandText = "EXPLAIN " + query.CommandText;
            var lines = new List<string>();
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
            return lines;
        }
    }

    protected static JsonNode Json(ReadOnlyMemory<byte> utf8) => JsonNode.Parse(utf8.Span)!;
}
