using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Analytics;

/// <summary>
/// The CPAP hourly rollups in MongoDB (<c>device_data_hourly</c>, one document per serial and hour, <c>_id</c>
/// "{serial}/{hour}"), kept by <see cref="CpapMongoStore"/> as it inserts readings.
/// </summary>
/// <remarks>
/// MongoDB without a replica set has no transactions, so the rollup is updated right after the insert, from what the
/// insert reports: a batch inserted whole adds its readings with <c>$inc</c>, <c>$bit</c>, <c>$min</c> and <c>$max</c>
/// (each hour one upsert); a batch in which some readings were already stored (a re-send, the rare case) has the hours it
/// touches computed again from the stored readings and replaced. So a re-sent batch never counts twice, and a worker that
/// stopped between the insert and the rollup update repairs the hours when the gateway re-sends the batch.
/// </remarks>
internal sealed class CpapMongoRollups(IMongoDatabase database) : IHourlyRollups<CpapHour>
{
    public const string Collection = "device_data_hourly";

    private readonly IMongoCollection<BsonDocument> _hours = database.GetCollection<BsonDocument>(Collection)
        .WithWriteConcern(WriteConcern.WMajority.With(journal: true));

    private readonly IMongoCollection<BsonDocument> _deviceData = database.GetCollection<BsonDocument>(CpapMongoSchema.DeviceDataCollection);

    private const int NamespaceExists = 48;

    /// <summary>
    /// Creates the collection and its (serial, hour) index. When this call created it, the readings stored before the
    /// rollups existed are summed up into it (the backfill), hour by hour.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        using var names = await database.ListCollectionNamesAsync(cancellationToken: cancellationToken);
        if ((await names.ToListAsync(cancellationToken)).Contains(Collection))
        {
            return;
        }
        try
        {
            await database.CreateCollectionAsync(Collection, cancellationToken: cancellationToken);
        }
        catch (MongoCommandException error) when (error.Code == NamespaceExists)
        {
            return;
        }
        await _hours.Indexes.CreateOneAsync(
            new CreateIndexModel<BsonDocument>(new BsonDocument { { "serial", 1 }, { "hour", 1 } }), cancellationToken: cancellationToken);
        await BackfillAsync(cancellationToken);
    }

    private async Task BackfillAsync(CancellationToken cancellationToken)
    {
        var pipeline = new[]
        {
            new BsonDocument("$group", new BsonDocument("_id", new BsonDocument
            {
                { "serial", "$" + DeviceDataDocument.Fields.Serial },
                { "hour", new BsonDocument("$dateTrunc", new BsonDocument { { "date", "$" + DeviceDataDocument.Fields.Timestamp }, { "unit", "hour" } }) },
            })),
        };
        var touched = await _deviceData.Aggregate<BsonDocument>(pipeline, cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        foreach (var key in touched)
        {
            var serial = key["_id"]["serial"].AsString;
            var hour = await SumStoredAsync(serial, new DateTimeOffset(key["_id"]["hour"].ToUniversalTime()), null, cancellationToken);
            if (hour is not null)
            {
                await _hours.ReplaceOneAsync(Key(hour.Serial, hour.Hour), ToDocument(hour), new ReplaceOptions { IsUpsert = true }, cancellationToken);
            }
        }
    }

    /// <summary>Adds a batch every reading of which was inserted now.</summary>
    public async Task AddAsync(IReadOnlyList<StoredReading> inserted, CancellationToken cancellationToken)
    {
        var updates = new List<WriteModel<BsonDocument>>();
        foreach (var sums in CpapHourSums.Of(inserted))
        {
            var hour = sums.ToHour();
            var update = new BsonDocument
            {
                { "$setOnInsert", new BsonDocument { { "serial", hour.Serial }, { "hour", new BsonDateTime(hour.Hour.UtcDateTime) } } },
                {
                    "$inc", new BsonDocument
                    {
                        { "readings", hour.Readings }, { "pressure_sum", hour.PressureSum }, { "pressure_count", hour.PressureCount },
                        { "leak_sum", hour.LeakSum }, { "leak_count", hour.LeakCount },
                    }
                },
                {
                    "$bit", new BsonDocument
                    {
                        { "usage_minutes", new BsonDocument("or", new BsonInt64(hour.UsageMinutes)) },
                        { "large_leak_minutes", new BsonDocument("or", new BsonInt64(hour.LargeLeakMinutes)) },
                    }
                },
                { "$min", new BsonDocument("first_received_at", new BsonDateTime(hour.FirstReceivedAt.UtcDateTime)) },
                { "$max", new BsonDocument("last_received_at", new BsonDateTime(hour.LastReceivedAt.UtcDateTime)) },
            };
            updates.Add(new UpdateOneModel<BsonDocument>(Key(hour.Serial, hour.Hour), update) { IsUpsert = true });
        }
        if (updates.Count > 0)
        {
            await _hours.BulkWriteAsync(updates, new BulkWriteOptions { IsOrdered = true }, cancellationToken);
        }
    }

    /// <summary>Computes the hours the batch touches again from the stored readings (some of the batch was stored before).</summary>
    public async Task RecomputeAsync(IReadOnlyList<StoredReading> batch, CancellationToken cancellationToken)
    {
        var updates = new List<WriteModel<BsonDocument>>();
        foreach (var touched in CpapHourSums.Of(batch))
        {
            var hour = await SumStoredAsync(touched.Serial, touched.HourStart, null, cancellationToken);
            if (hour is not null)
            {
                updates.Add(new ReplaceOneModel<BsonDocument>(Key(hour.Serial, hour.Hour), ToDocument(hour)) { IsUpsert = true });
            }
        }
        if (updates.Count > 0)
        {
            await _hours.BulkWriteAsync(updates, new BulkWriteOptions { IsOrdered = true }, cancellationToken);
        }
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<CpapHour>>> HoursAsync(
        IReadOnlyList<RollupScope> devices, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var result = new Dictionary<string, IReadOnlyList<CpapHour>>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            var filter = new BsonDocument
            {
                { "serial", device.Serial },
                { "hour", new BsonDocument { { "$gte", new BsonDateTime(from.UtcDateTime) }, { "$lt", new BsonDateTime(to.UtcDateTime) } } },
            };
            var stored = await _hours.Find(filter).Sort(new BsonDocument("hour", 1)).ToListAsync(cancellationToken);
            var hours = new List<CpapHour>(stored.Count);
            foreach (var document in stored)
            {
                var hour = FromDocument(document);
                var kept = RollupScoping.Classify(hour, device.Windows) switch
                {
                    HourScope.Inside => hour,
                    HourScope.Straddles => await SumStoredAsync(hour.Serial, hour.Hour, device.Windows, cancellationToken),
                    _ => null,
                };
                if (kept is not null)
                {
                    hours.Add(kept);
                }
            }
            result[device.Serial] = hours;
        }
        return result;
    }

    /// <summary>The hour summed up from the stored readings, only those received in <paramref name="windows"/> (null: all).</summary>
    private async Task<CpapHour?> SumStoredAsync(string serial, DateTimeOffset hour, IReadOnlyList<ReceivedWindow>? windows, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument
        {
            { DeviceDataDocument.Fields.Serial, serial },
            {
                DeviceDataDocument.Fields.Timestamp, new BsonDocument
                {
                    { "$gte", new BsonDateTime(hour.UtcDateTime) }, { "$lt", new BsonDateTime(hour.AddHours(1).UtcDateTime) },
                }
            },
        };
        var sums = new CpapHourSums(serial, hour);
        using var cursor = await _deviceData.Find(filter).ToCursorAsync(cancellationToken);
        while (await cursor.MoveNextAsync(cancellationToken))
        {
            foreach (var document in cursor.Current)
            {
                var metrics = document[DeviceDataDocument.Fields.Metrics].AsBsonDocument;
                var received = new DateTimeOffset(document[DeviceDataDocument.Fields.Gateway][DeviceDataDocument.Fields.GatewayReceivedAt].ToUniversalTime());
                if (windows is not null && !windows.Any(w => w.Contains(received)))
                {
                    continue;
                }
                sums.Add(new DateTimeOffset(document[DeviceDataDocument.Fields.Timestamp].ToUniversalTime()), received,
                    metrics[DeviceDataDocument.Fields.PressureCmH2O].ToDouble(), metrics[DeviceDataDocument.Fields.LeakRateLpm].ToDouble());
            }
        }
        return sums.IsEmpty ? null : sums.ToHour();
    }

    private static BsonDocument Key(string serial, DateTimeOffset hour) =>
        new("_id", $"{serial}/{hour.UtcDateTime:yyyy-MM-dd'T'HH}");

    private static BsonDocument ToDocument(CpapHour hour) => new()
    {
        { "serial", hour.Serial },
        { "hour", new BsonDateTime(hour.Hour.UtcDateTime) },
        { "readings", hour.Readings },
        { "usage_minutes", new BsonInt64(hour.UsageMinutes) },
        { "pressure_sum", hour.PressureSum },
        { "pressure_count", hour.PressureCount },
        { "leak_sum", hour.LeakSum },
        { "leak_count", hour.LeakCount },
        { "large_leak_minutes", new BsonInt64(hour.LargeLeakMinutes) },
        { "first_received_at", new BsonDateTime(hour.FirstReceivedAt.UtcDateTime) },
        { "last_received_at", new BsonDateTime(hour.LastReceivedAt.UtcDateTime) },
    };

    private static CpapHour FromDocument(BsonDocument document) => new(
        document["serial"].AsString,
        new DateTimeOffset(document["hour"].ToUniversalTime()),
        document["readings"].ToInt64(),
        document["usage_minutes"].ToInt64(),
        document["pressure_sum"].ToDouble(),
        document["pressure_count"].ToInt64(),
        document["leak_sum"].ToDouble(),
        document["leak_count"].ToInt64(),
        document["large_leak_minutes"].ToInt64(),
        new DateTimeOffset(document["first_received_at"].ToUniversalTime()),
        new DateTimeOffset(document["last_received_at"].ToUniversalTime()));
}
