using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Mongo;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Tests.Queries;

/// <summary>The MongoDB CPAP store's queries against a real server (set EDGE_TEST_MONGODB_URI; MongoDB 5.0+ for $dateTrunc).</summary>
public sealed class CpapMongoStoreQueriesTests : IAsyncLifetime
{
    private const string Serial = "CPAP-2301-9912";
    private const string OtherSerial = "BIPAP-2301-9913";

    // The server's TTL monitor runs on the real clock, so the readings are dated in the last few days.
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private MongoClient? _client;
    private IMongoDatabase _database = null!;
    private CpapMongoStore _store = null!;

    private DateTimeOffset Start
    {
        get
        {
            var now = _clock.GetUtcNow().UtcDateTime;
            return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddDays(-3);
        }
    }

    public async Task InitializeAsync()
    {
        if (MongoFactAttribute.Uri is { } uri)
        {
            _client = new MongoClient(uri);
            _database = _client.GetDatabase($"edge_test_{Guid.NewGuid():N}");
            _store = new CpapMongoStore(_database, 365, _clock, NullLogger<CpapMongoStore>.Instance);
            await _store.MigrateAsync(CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DropDatabaseAsync(_database.DatabaseNamespace.DatabaseName);
            _client.Dispose();
        }
    }

    [MongoFact]
    public async Task Migrate_creates_the_keyset_index()
    {
        var indexes = await (await _database.GetCollection<BsonDocument>("device_data").Indexes.ListAsync()).ToListAsync();

        var keyset = Assert.Single(indexes, i => i["name"] == "serial_1_timestamp_1_arrival_1");
        Assert.Equal(
            new BsonDocument { { "serial", 1 }, { "timestamp", 1 }, { "gateway.receivedAt", 1 }, { "gateway.epoch", 1 }, { "seq", 1 }, { "_id", 1 } },
            keyset["key"].AsBsonDocument);
    }

    [MongoFact]
    public async Task Paging_with_small_limits_returns_every_reading_once_in_timestamp_then_id_order()
    {
        var written = await WriteDataSetAsync(120);

        foreach (var limit in (int[])[1, 7, 120, 1000])
        {
            var rows = await PageAllAsync(Query(limit));

            Assert.Equal(Ordered(written.Where(r => r.Serial.Value == Serial)).Select(r => r.Id), rows.Select(r => r.Id));
        }
    }

    [MongoFact]
    public async Task Readings_stored_while_paging_are_never_returned_twice_and_no_earlier_reading_is_skipped()
    {
        var existing = (await WriteDataSetAsync(90)).Where(r => r.Serial.Value == Serial).ToList();
        var ahead = new List<StoredReading>();
        var behind = new List<StoredReading>();
        var returned = new List<TelemetryRow>();
        var sequence = 50_000L;

        TelemetryCursor? cursor = null;
        do
        {
            var page = await _store.QueryAsync(Query(8) with { After = cursor }, CancellationToken.None);
            returned.AddRange(page.Items);
            cursor = page.Next;
            if (cursor is not null)
            {
                var late = Readings.Cpap(sequence++, cursor.DeviceTime.AddMinutes(-3), serial: Serial);
                var early = Readings.Cpap(sequence++, cursor.DeviceTime.AddMinutes(3), serial: Serial);
                await _store.WriteAsync([late, early], CancellationToken.None);
                behind.Add(late);
                ahead.Add(early);
            }
        }
        while (cursor is not null);

        var ids = returned.Select(r => r.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(existing.Concat(ahead), r => Assert.Contains(r.Id, ids));
        Assert.All(behind, r => Assert.DoesNotContain(r.Id, ids));
    }

    [MongoFact]
    public async Task Equal_device_times_come_back_in_arrival_order_across_a_page_boundary()
    {
        var at = Start.AddHours(3);
        var received = at.AddMilliseconds(100);
        StoredReading Arrived(long epoch, long sequence, DateTimeOffset receivedAt) =>
            Readings.Cpap(sequence, at, pressure: 5 + sequence % 10, serial: Serial, epoch: epoch) with { GatewayReceivedAt = receivedAt };
        List<StoredReading> arrival =
        [
            Arrived(7, 40, received), Arrived(7, 41, received), Arrived(7, 39, received.AddMilliseconds(1)),
            Arrived(7, 42, received.AddMilliseconds(2)), Arrived(7, 43, received.AddMilliseconds(3)), Arrived(8, 1, received.AddMilliseconds(4)),
        ];
        Assert.NotEqual(arrival.Select(r => r.Id), arrival.OrderBy(r => Convert.ToHexString(r.Id.ToByteArray(bigEndian: true)), StringComparer.Ordinal).Select(r => r.Id));
        await _store.WriteAsync([.. arrival.AsEnumerable().Reverse()], CancellationToken.None);

        var rows = await PageAllAsync(Query(2));

        Assert.Equal(arrival.Select(r => r.Id), rows.Where(r => r.DeviceTime == at).Select(r => r.Id));
    }

    [MongoFact]
    public async Task Alarms_only_and_metric_bounds_select_the_matching_readings()
    {
        var written = (await WriteDataSetAsync(60)).Where(r => r.Serial.Value == Serial).ToList();

        var alarms = await PageAllAsync(Query(5) with { AlarmsOnly = true });
        var bounded = await PageAllAsync(Query(5) with { Filters = [new MetricFilter(ReadingMetrics.PressureCmH2O, 8, 14)] });

        Assert.Equal(Ordered(written.Where(r => r.Urgent)).Select(r => r.Id), alarms.Select(r => r.Id));
        Assert.Equal(Ordered(written.Where(r => Pressure(r) is >= 8 and <= 14)).Select(r => r.Id), bounded.Select(r => r.Id));
        Assert.NotEmpty(alarms);
        Assert.NotEmpty(bounded);
    }

    [MongoFact]
    public async Task A_summary_gives_count_min_mean_and_max_per_UTC_hour_and_day()
    {
        var written = (await WriteDataSetAsync(200)).Where(r => r.Serial.Value == Serial).ToList();
        var from = Start.AddMinutes(40);
        var to = Start.AddHours(30);

        foreach (var bucket in (SummaryBucket[])[SummaryBucket.Hour, SummaryBucket.Day])
        {
            var summary = await _store.SummarizeAsync(new SummaryQuery(SerialNumber.Parse(Serial), ReadingMetrics.PressureCmH2O, from, to, bucket), CancellationToken.None);

            var expected = written
                .Where(r => r.DeviceTime >= from && r.DeviceTime < to)
                .GroupBy(r => bucket == SummaryBucket.Hour
                    ? new DateTimeOffset(r.DeviceTime.UtcDateTime.Date.AddHours(r.DeviceTime.UtcDateTime.Hour), TimeSpan.Zero)
                    : new DateTimeOffset(r.DeviceTime.UtcDateTime.Date, TimeSpan.Zero))
                .OrderBy(g => g.Key)
                .ToList();
            Assert.Equal(expected.Select(g => (g.Key, (long)g.Count(), g.Min(Pressure), g.Max(Pressure))), summary.Select(s => (s.BucketStart, s.Count, s.Min, s.Max)));
            Assert.All(expected.Zip(summary), pair => Assert.Equal(pair.First.Average(Pressure), pair.Second.Avg, tolerance: 1e-9));
        }
    }

    [MongoFact]
    public async Task A_device_without_readings_gets_an_empty_page_without_a_next_cursor()
    {
        await WriteDataSetAsync(10);

        var page = await _store.QueryAsync(Query(10) with { Serial = SerialNumber.Parse("CPAP-0000-0001") }, CancellationToken.None);

        Assert.Empty(page.Items);
        Assert.Null(page.Next);
    }

    private TelemetryQuery Query(int limit) => new(SerialNumber.Parse(Serial), Start.AddDays(-1), Start.AddDays(3), limit, null, false, []);

    // Every 13 minutes (milliseconds only: MongoDB keeps no finer), every fourth at its predecessor's time; every
    // seventh urgent; pressures 4-20. As many BiPAP readings of another device at the same times.
    private async Task<List<StoredReading>> WriteDataSetAsync(int count)
    {
        var readings = new List<StoredReading>();
        var time = Start;
        for (var i = 0; i < count; i++)
        {
            if (i % 4 != 3)
            {
                time = time.AddMinutes(13).AddMilliseconds(i);
            }
            readings.Add(Readings.Cpap(i + 1, time, pressure: 4 + (i * 5 % 17), serial: Serial, urgent: i % 7 == 0));
            readings.Add(Readings.Cpap(10_000 + i, time, pressure: 10, serial: OtherSerial, urgent: true));
        }
        await _store.WriteAsync(readings, CancellationToken.None);
        return readings;
    }

    private async Task<List<TelemetryRow>> PageAllAsync(TelemetryQuery query)
    {
        var rows = new List<TelemetryRow>();
        for (TelemetryCursor? cursor = null; ;)
        {
            var page = await _store.QueryAsync(query with { After = cursor }, CancellationToken.None);
            Assert.InRange(page.Items.Count, 0, query.Limit);
            rows.AddRange(page.Items);
            if ((cursor = page.Next) is null)
            {
                return rows;
            }
        }
    }

    private static double Pressure(StoredReading reading) => ((CpapTelemetry)reading.Reading).Metrics.PressureCmH2O;

    private static List<StoredReading> Ordered(IEnumerable<StoredReading> readings) =>
        [.. readings.OrderBy(r => r.DeviceTime.UtcTicks / TimeSpan.TicksPerMillisecond)
            .ThenBy(r => r.GatewayReceivedAt.UtcTicks / TimeSpan.TicksPerMillisecond).ThenBy(r => r.Epoch).ThenBy(r => r.Sequence)
            .ThenBy(r => Convert.ToHexString(r.Id.ToByteArray(bigEndian: true)), StringComparer.Ordinal)];
}
