using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Storage.Analytics;
using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Mongo;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MongoDB.Driver;

namespace Edge.Storage.Tests.Analytics;

/// <summary>
/// The CPAP per-metric hourly rollup in MongoDB, what the trend summaries read (set EDGE_TEST_MONGODB_URI); skipped
/// with that reason otherwise.
/// </summary>
public sealed class CpapMongoMetricRollupTests : IAsyncLifetime
{
    private const string Serial = "CPAP-2301-9912";

    // The TTL monitor runs on the real clock: readings are dated within the last days, on a whole hour.
    private static readonly DateTimeOffset Hour = new(TimeProvider.System.GetUtcNow().UtcDateTime.Date.AddDays(-1).AddHours(2), TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private MongoClient? _client;
    private IMongoDatabase _database = null!;

    public Task InitializeAsync()
    {
        if (MongoFactAttribute.Uri is { } uri)
        {
            _client = new MongoClient(uri);
            _database = _client.GetDatabase($"edge_test_{Guid.NewGuid():N}");
        }
        return Task.CompletedTask;
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
    public async Task Hours_and_days_have_the_readings_numbers_counted_once_however_often_a_batch_is_stored()
    {
        var store = await NewStoreAsync();
        // Pressure 8, 10, 12 in the first hour (the 10 urgent), 6 in the second.
        List<StoredReading> batch =
        [
            Readings.Cpap(1, Hour.AddMinutes(5), pressure: 8),
            Readings.Cpap(2, Hour.AddMinutes(15), pressure: 10, urgent: true),
            Readings.Cpap(3, Hour.AddMinutes(25), pressure: 12),
            Readings.Cpap(4, Hour.AddHours(1).AddMinutes(5), pressure: 6),
        ];
        await store.WriteAsync(batch, CancellationToken.None);
        await store.WriteAsync(batch, CancellationToken.None);
        var restarted = await NewStoreAsync();
        await restarted.WriteAsync([.. batch.Select(r => r with { Id = ReadingId.From(r.GatewayId, 2, r.Sequence), Epoch = 2 })], CancellationToken.None);

        var hours = await restarted.SummarizeAsync(Query(Hour.AddHours(-1), Hour.AddHours(3), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal([(Hour, 3L, 8.0, 10.0, 12.0, 1L), (Hour.AddHours(1), 1L, 6.0, 6.0, 6.0, 0L)], hours.Select(Tuple));
        var days = await restarted.SummarizeAsync(Query(Hour.AddDays(-1), Hour.AddDays(1), SummaryBucket.Day), CancellationToken.None);
        Assert.Equal([(new DateTimeOffset(Hour.UtcDateTime.Date, TimeSpan.Zero), 4L, 6.0, 9.0, 12.0, 1L)], days.Select(Tuple));
    }

    [MongoFact]
    public async Task A_partial_hour_and_an_ownership_window_count_only_their_readings()
    {
        var store = await NewStoreAsync();
        List<StoredReading> batch =
        [
            Readings.Cpap(1, Hour.AddMinutes(5), pressure: 8),
            Readings.Cpap(2, Hour.AddMinutes(15), pressure: 10),
            Readings.Cpap(3, Hour.AddMinutes(25), pressure: 12),
        ];
        await store.WriteAsync(batch, CancellationToken.None);

        var partial = await store.SummarizeAsync(Query(Hour.AddMinutes(10), Hour.AddHours(2), SummaryBucket.Hour), CancellationToken.None);
        Assert.Equal([(Hour, 2L, 10.0, 11.0, 12.0, 0L)], partial.Select(Tuple));
        var owned = await store.SummarizeAsync(Query(Hour, Hour.AddHours(1), SummaryBucket.Hour) with { ReceivedWithin = [new ReceivedWindow(Hour.AddDays(-1), batch[1].GatewayReceivedAt)] }, CancellationToken.None);
        Assert.Equal([(Hour, 1L, 8.0, 8.0, 8.0, 0L)], owned.Select(Tuple));
    }

    private static SummaryQuery Query(DateTimeOffset from, DateTimeOffset to, SummaryBucket bucket) =>
        new(SerialNumber.Parse(Serial), ReadingMetrics.PressureCmH2O, from, to, bucket);

    private static (DateTimeOffset, long, double, double, double, long) Tuple(SummaryRow row) =>
        (row.BucketStart, row.Count, row.Min, Math.Round(row.Avg, 9), row.Max, row.Alarms);

    private async Task<CpapMongoStore> NewStoreAsync()
    {
        var store = new CpapMongoStore(_database, 365, _clock, NullLogger<CpapMongoStore>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }
}
