using Edge.Storage.Cpap;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Mongo;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Tests.Cpap;

/// <summary>Against a real MongoDB server (set EDGE_TEST_MONGODB_URI); skipped with that reason otherwise.</summary>
public sealed class CpapMongoStoreTests : IAsyncLifetime
{
    // The server's TTL monitor runs on the real clock, so the readings here are dated now, not on a fixed day.
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
    public async Task Migrate_creates_both_collections_and_the_indexes_and_can_run_again()
    {
        var store = NewStore(30);

        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None);

        var collections = await (await _database.ListCollectionNamesAsync()).ToListAsync();
        Assert.Contains("device_data", collections);
        Assert.Contains("device_config", collections);
        var indexes = await ListIndexesAsync();
        Assert.Equal(new BsonDocument { { "serial", 1 }, { "timestamp", 1 } }, indexes["serial_1_timestamp_1"]["key"].AsBsonDocument);
        Assert.Equal(30 * 86_400, indexes["timestamp_ttl"]["expireAfterSeconds"].ToInt64());
    }

    [MongoFact]
    public async Task A_changed_retention_updates_the_ttl_index()
    {
        await NewStore(30).MigrateAsync(CancellationToken.None);

        Assert.Equal(0, await NewStore(90).ApplyRetentionAsync(_clock.GetUtcNow(), CancellationToken.None));

        Assert.Equal(90 * 86_400, (await ListIndexesAsync())["timestamp_ttl"]["expireAfterSeconds"].ToInt64());
    }

    [MongoFact]
    public async Task A_batch_is_stored_as_DeviceData_documents_keyed_by_reading_id()
    {
        var store = NewStore(365);
        await store.MigrateAsync(CancellationToken.None);
        var reading = Readings.Cpap(9, _clock.GetUtcNow().AddSeconds(-5), urgent: true);

        Assert.Equal(1, await store.WriteAsync([reading], CancellationToken.None));

        var stored = await _database.GetCollection<BsonDocument>("device_data")
            .Find(new BsonDocument("_id", new BsonBinaryData(reading.Id, GuidRepresentation.Standard))).SingleAsync();
        Assert.Equal(DeviceDataDocument.ToBson(reading, _clock.GetUtcNow()), stored);
    }

    [MongoFact]
    public async Task The_same_batch_twice_and_from_two_replicas_at_once_is_stored_once()
    {
        var store = NewStore(365);
        await store.MigrateAsync(CancellationToken.None);
        var batch = Enumerable.Range(1, 300).Select(i => Readings.Cpap(i, _clock.GetUtcNow().AddSeconds(-i))).ToList();

        var results = await Task.WhenAll(
            Task.Run(() => store.WriteAsync(batch, CancellationToken.None)),
            Task.Run(() => NewStore(365).WriteAsync(batch, CancellationToken.None)));

        Assert.Equal(300, results.Sum());
        Assert.Equal(0, await store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(1, await store.WriteAsync([.. batch[..10], Readings.Cpap(1000, _clock.GetUtcNow())], CancellationToken.None));
        Assert.Equal(301L, await _database.GetCollection<BsonDocument>("device_data").CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty));
    }

    [MongoFact]
    public async Task The_same_reading_under_two_journal_identities_is_stored_once()
    {
        var store = NewStore(365);
        await store.MigrateAsync(CancellationToken.None);
        var first = Readings.Cpap(7, _clock.GetUtcNow().AddSeconds(-5));
        // The device's re-send, journaled again by a gateway that had synced and deleted the first copy.
        var again = first with { Id = Edge.Contracts.Identity.ReadingId.From(first.GatewayId, 2, 913), Epoch = 2, Sequence = 913 };
        var other = Readings.Cpap(8, _clock.GetUtcNow().AddSeconds(-4));

        Assert.Equal(1, await store.WriteAsync([first], CancellationToken.None));
        Assert.Equal(1, await store.WriteAsync([again, other, again with { Id = Edge.Contracts.Identity.ReadingId.From(first.GatewayId, 2, 914), Sequence = 914 }], CancellationToken.None));

        var indexes = await ListIndexesAsync();
        Assert.True(indexes["contentId_unique"]["unique"].ToBoolean());
        Assert.Equal(2L, await _database.GetCollection<BsonDocument>("device_data").CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty));
        Assert.Equal(1L, await _database.GetCollection<BsonDocument>("device_data")
            .CountDocumentsAsync(new BsonDocument("contentId", new BsonBinaryData(first.ContentId, GuidRepresentation.Standard))));
    }

    private CpapMongoStore NewStore(int retentionDays) => new(_database, retentionDays, _clock, NullLogger<CpapMongoStore>.Instance);

    private async Task<Dictionary<string, BsonDocument>> ListIndexesAsync()
    {
        var indexes = await (await _database.GetCollection<BsonDocument>("device_data").Indexes.ListAsync()).ToListAsync();
        return indexes.ToDictionary(i => i["name"].AsString);
    }
}
