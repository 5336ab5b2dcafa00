using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Analytics;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Cpap;

/// <summary>
/// CPAP/BiPAP readings in MongoDB (<c>device_data</c>, the existing backend's collection): <c>_id</c> is the reading id
/// and <c>contentId</c> (unique) the content id, so a re-sent reading, under its own journal identity or another one,
/// is a duplicate-key no-op; a TTL index on the device time does the retention.
/// </summary>
/// <remarks>
/// A batch is one unordered <c>insertMany</c> with majority, journaled write concern, not a transaction (that would
/// need a replica set). If it fails half way, the documents already inserted stay, the call throws, the batch is not
/// acknowledged, and its re-send inserts the rest: the result is the same as all-or-nothing. The hourly rollups are
/// updated after the insert (<see cref="CpapMongoRollups"/>).
/// </remarks>
public sealed class CpapMongoStore : IReadingStore
{
    private const int NamespaceExists = 48;

    private readonly IMongoDatabase _database;
    private readonly IMongoCollection<BsonDocument> _deviceData;
    private readonly int _retentionDays;
    private readonly TimeProvider _time;
    private readonly ILogger<CpapMongoStore> _logger;
    private readonly CpapMongoRollups _rollups;
    private readonly CpapMongoMetricRollups _metricRollups;
    private readonly MetricSummaries _summaries;

    public CpapMongoStore(IMongoDatabase database, int retentionDays, TimeProvider time, ILogger<CpapMongoStore> logger)
    {
        _database = database;
        _deviceData = database.GetCollection<BsonDocument>(CpapMongoSchema.DeviceDataCollection)
            .WithWriteConcern(WriteConcern.WMajority.With(journal: true));
        _retentionDays = retentionDays;
        _time = time;
        _logger = logger;
        _rollups = new CpapMongoRollups(database);
        _metricRollups = new CpapMongoMetricRollups(database);
        _summaries = new MetricSummaries(ReadingMetrics.For(DeviceKind.Cpap), _metricRollups,
            (query, from, to, cancellationToken) => _metricRollups.SumStoredAsync(query.Serial.Value, from, to, query.ReceivedWithin, cancellationToken),
            Name, DeviceKind.Cpap, DeviceKind.Bipap);
    }

    /// <summary>The hourly rollups kept with every write, for the analytics.</summary>
    public IHourlyRollups<CpapHour> Hours => _rollups;

    public string Name => "cpap";

    /// <summary>The database this store writes to.</summary>
    public IMongoDatabase Database => _database;

    /// <summary>
    /// Creates <c>device_data</c> and <c>device_config</c> and the indexes (those of <see cref="CpapMongoSchema"/> and the
    /// keyset index of the telemetry queries); updates the TTL when the retention changed.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        using var names = await _database.ListCollectionNamesAsync(cancellationToken: cancellationToken);
        var existing = await names.ToListAsync(cancellationToken);
        foreach (var collection in CpapMongoSchema.Collections)
        {
            if (existing.Contains(collection))
            {
                continue;
            }
            try
            {
                await _database.CreateCollectionAsync(collection, cancellationToken: cancellationToken);
                Log.MongoCollectionCreated(_logger, collection);
            }
            catch (MongoCommandException error) when (error.Code == NamespaceExists)
            {
                // Another replica created it a moment ago.
            }
        }
        await EnsureIndexesAsync(cancellationToken);
        await _rollups.MigrateAsync(cancellationToken);
        await _metricRollups.MigrateAsync(cancellationToken);
    }

    public async Task<int> WriteAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        StoreGuard.RequireAll<CpapTelemetry>(readings, Name);
        if (readings.Count == 0)
        {
            return 0;
        }

        var storedAt = _time.GetUtcNow();
        var documents = new List<BsonDocument>(readings.Count);
        for (var i = 0; i < readings.Count; i++)
        {
            documents.Add(DeviceDataDocument.ToBson(readings[i], storedAt));
        }

        try
        {
            await _deviceData.InsertManyAsync(documents, new InsertManyOptions { IsOrdered = false }, cancellationToken);
            await _rollups.AddAsync(readings, cancellationToken);
            await _metricRollups.AddAsync(readings, cancellationToken);
            Log.BatchWritten(_logger, Name, documents.Count, documents.Count);
            return documents.Count;
        }
        catch (MongoBulkWriteException<BsonDocument> error) when (error.WriteConcernError is null && OnlyDuplicates(error.WriteErrors))
        {
            // E11000 on _id or contentId: already stored by an earlier send, under this journal identity or another (or
            // twice in this batch). Every other document was inserted.
            var stored = documents.Count - error.WriteErrors.Count;
            await _rollups.RecomputeAsync(readings, cancellationToken);
            await _metricRollups.RecomputeAsync(readings, cancellationToken);
            Log.BatchWritten(_logger, Name, documents.Count, stored);
            return stored;
        }
    }

    /// <summary>MongoDB's TTL monitor deletes expired readings itself; this only brings the TTL in line with the options. Returns 0.</summary>
    public async Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureIndexesAsync(cancellationToken);
        return 0;
    }

    public Task<TelemetryPage> QueryAsync(TelemetryQuery query, CancellationToken cancellationToken) =>
        CpapMongoQueries.QueryAsync(_deviceData, query, cancellationToken);

    /// <summary>From the per-metric hourly rollup (<see cref="CpapMongoMetricRollups"/>), not an aggregation over the readings.</summary>
    public Task<IReadOnlyList<SummaryRow>> SummarizeAsync(SummaryQuery query, CancellationToken cancellationToken) =>
        _summaries.SummarizeAsync(query, cancellationToken);

    /// <summary>True when every write error is a duplicate key (E11000): the batch is stored, some of it earlier.</summary>
    internal static bool OnlyDuplicates(IReadOnlyList<BulkWriteError> errors)
    {
        for (var i = 0; i < errors.Count; i++)
        {
            if (errors[i].Category != ServerErrorCategory.DuplicateKey)
            {
                return false;
            }
        }
        return true;
    }

    private async Task EnsureIndexesAsync(CancellationToken cancellationToken)
    {
        using var cursor = await _deviceData.Indexes.ListAsync(cancellationToken);
        var existing = await cursor.ToListAsync(cancellationToken);
        foreach (var command in CpapMongoSchema.PlanIndexCommands(existing, _retentionDays).Concat(CpapMongoQueries.PlanIndexCommands(existing)))
        {
            await _database.RunCommandAsync(new BsonDocumentCommand<BsonDocument>(command), cancellationToken: cancellationToken);
            Log.MongoIndexCommand(_logger, command.GetElement(0).Name, CpapMongoSchema.DeviceDataCollection, command.ToJson());
        }
    }
}
