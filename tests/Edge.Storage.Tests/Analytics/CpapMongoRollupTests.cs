using Edge.Contracts.Identity;
using Edge.Storage.Analytics;
using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Mongo;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Tests.Analytics;

/// <summary>The CPAP hourly rollups in MongoDB (set EDGE_TEST_MONGODB_URI); skipped with that reason otherwise.</summary>
public sealed class CpapMongoRollupTests : IAsyncLifetime
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
    public async Task A_batch_stored_twice_after_a_restart_or_journaled_again_counts_once()
    {
        var store = await NewStoreAsync();
        var batch = Enumerable.Range(0, 40).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i).AddSeconds(5),
            pressure: i < 30 ? 10 : 0, leak: i is >= 10 and < 15 ? 40 : 12)).ToList();

        await store.WriteAsync(batch, CancellationToken.None);
        await store.WriteAsync(batch, CancellationToken.None);
        var restarted = await NewStoreAsync();
        await restarted.WriteAsync(batch.Select(r => r with { Id = ReadingId.From(r.GatewayId, 2, r.Sequence), Epoch = 2 }).ToList(), CancellationToken.None);

        var hour = Assert.Single((await restarted.Hours.HoursAsync([new RollupScope(Serial, null)], Hour, Hour.AddHours(1), CancellationToken.None))[Serial]);
        Assert.Equal(40, hour.Readings);
        Assert.Equal(30 * 60, hour.UsageSeconds);
        Assert.Equal(300, hour.PressureSum, 6);
        Assert.Equal(5 * 60, hour.LargeLeakSeconds);
    }

    [MongoFact]
    public async Task A_lost_rollup_update_is_repaired_by_the_re_send_and_straddling_hours_are_scoped()
    {
        var store = await NewStoreAsync();
        var batch = Enumerable.Range(0, 60).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i), pressure: i < 20 ? 6 : 12)).ToList();
        await store.WriteAsync(batch, CancellationToken.None);
        // The worker stopped between the insert and the rollup update.
        await _database.GetCollection<BsonDocument>(CpapMongoRollups.Collection).DeleteManyAsync(FilterDefinition<BsonDocument>.Empty);

        await store.WriteAsync(batch, CancellationToken.None);

        var transfer = batch[20].GatewayReceivedAt;
        var all = Assert.Single((await store.Hours.HoursAsync([new RollupScope(Serial, null)], Hour, Hour.AddHours(1), CancellationToken.None))[Serial]);
        Assert.Equal(60, all.Readings);
        var after = Assert.Single((await store.Hours.HoursAsync([new RollupScope(Serial, [new ReceivedWindow(transfer, null)])], Hour, Hour.AddHours(1), CancellationToken.None))[Serial]);
        Assert.Equal((40L, 480.0), (after.Readings, after.PressureSum));
    }

    [MongoFact]
    public async Task The_first_migration_backfills_the_readings_stored_before()
    {
        var store = await NewStoreAsync();
        await store.WriteAsync([.. Enumerable.Range(0, 10).Select(i => Readings.Cpap(i + 1, Hour.AddMinutes(i), pressure: 8))], CancellationToken.None);
        await _database.DropCollectionAsync(CpapMongoRollups.Collection);

        var upgraded = await NewStoreAsync();

        var hour = Assert.Single((await upgraded.Hours.HoursAsync([new RollupScope(Serial, null)], Hour, Hour.AddHours(1), CancellationToken.None))[Serial]);
        Assert.Equal((10L, 80.0, 600), (hour.Readings, hour.PressureSum, hour.UsageSeconds));
    }

    private async Task<CpapMongoStore> NewStoreAsync()
    {
        var store = new CpapMongoStore(_database, 365, _clock, NullLogger<CpapMongoStore>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }
}
