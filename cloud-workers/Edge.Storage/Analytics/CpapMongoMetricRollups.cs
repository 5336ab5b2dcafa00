using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Analytics;

/// <summary>
/// The CPAP per-metric hourly rollup in MongoDB (<c>device_data_metric_hourly</c>, one document per serial and hour,
/// <c>_id</c> "{serial}/{hour}"): per metric count, sum, min and max and the urgent readings, what the trend summaries
/// read. Kept by <see cref="CpapMongoStore"/> exactly as <see cref="CpapMongoRollups"/>: added to after a whole insert,
/// recomputed from the stored readings for a batch some of which was stored before.
/// </summary>
internal sealed class CpapMongoMetricRollups(IMongoDatabase database) : IHourlyRollups<MetricHour>
{
    public const string Collection = "device_data_metric_hourly";

    private static readonly string[] Metrics = [.. ReadingMetrics.For(DeviceKind.Cpap)];

    private readonly IMongoCollection<BsonDocument> _hours = database.GetCollection<BsonDocument>(Collection)
        .WithWriteConcern(WriteConcern.WMajority.With(journal: true));

    private readonly IMongoCollection<BsonDocument> _deviceData = database.GetCollection<BsonDocument>(CpapMongoSchema.DeviceDataCollection);

    private const int NamespaceExists = 48;

    /// <summary>Creates the collection and its (serial, hour) index; when this call created it, backfills it from <c>device_data</c>.</summary>
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
            var hour = new DateTimeOffset(key["_id"]["hour"].ToUniversalTime());
            foreach (var sums in await SumStoredAsync(key["_id"]["serial"].AsString, hour, hour.AddHours(1), null, cancellationToken))
            {
                await _hours.ReplaceOneAsync(Key(sums.Serial, sums.Hour), ToDocument(sums), new ReplaceOptions { IsUpsert = true }, cancellationToken);
            }
        }
    }

    /// <summary>Adds a batch every reading of which was inserted now.</summary>
    public async Task AddAsync(IReadOnlyList<StoredReading> inserted, CancellationToken cancellationToken)
    {
        var updates = new List<WriteModel<BsonDocument>>();
        foreach (var hour in Sum(inserted))
        {
            var increments = new BsonDocument { { "readings", hour.Readings }, { "alarms", hour.Alarms } };
            var minimums = new BsonDocument("first_received_at", new BsonDateTime(hour.FirstReceivedAt.UtcDateTime));
            var maximums = new BsonDocument("last_received_at", new BsonDateTime(hour.LastReceivedAt.UtcDateTime));
            for (var i = 0; i < Metrics.Length; i++)
            {
                var stats = hour.Metrics[i];
                increments.Add($"{Metrics[i]}_count", stats.Count).Add($"{Metrics[i]}_sum", stats.Sum);
                if (stats.Count > 0)
                {
                    minimums.Add($"{Metrics[i]}_min", stats.Min!.Value);
                    maximums.Add($"{Metrics[i]}_max", stats.Max!.Value);
                }
            }
            var update = new BsonDocument
            {
                { "$setOnInsert", new BsonDocument { { "serial", hour.Serial }, { "hour", new BsonDateTime(hour.Hour.UtcDateTime) } } },
                { "$inc", increments },
                { "$min", minimums },
                { "$max", maximums },
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
        foreach (var touched in Sum(batch))
        {
            foreach (var hour in await SumStoredAsync(touched.Serial, touched.Hour, touched.Hour.AddHours(1), null, cancellationToken))
            {
                updates.Add(new ReplaceOneModel<BsonDocument>(Key(hour.Serial, hour.Hour), ToDocument(hour)) { IsUpsert = true });
            }
        }
        if (updates.Count > 0)
        {
            await _hours.BulkWriteAsync(updates, new BulkWriteOptions { IsOrdered = true }, cancellationToken);
        }
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricHour>>> HoursAsync(
        IReadOnlyList<RollupScope> devices, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var result = new Dictionary<string, IReadOnlyList<MetricHour>>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            var filter = new BsonDocument
            {
                { "serial", device.Serial },
                { "hour", new BsonDocument { { "$gte", new BsonDateTime(from.UtcDateTime) }, { "$lt", new BsonDateTime(to.UtcDateTime) } } },
            };
            var stored = await _hours.Find(filter).Sort(new BsonDocument("hour", 1)).ToListAsync(cancellationToken);
            var hours = new List<MetricHour>(stored.Count);
            foreach (var document in stored)
            {
                var hour = FromDocument(document);
                switch (RollupScoping.Classify(hour, device.Windows))
                {
                    case HourScope.Inside:
                        hours.Add(hour);
                        break;
                    case HourScope.Straddles:
                        hours.AddRange(await SumStoredAsync(hour.Serial, hour.Hour, hour.Hour.AddHours(1), device.Windows, cancellationToken));
                        break;
                }
            }
            result[device.Serial] = hours;
        }
        return result;
    }

    /// <summary>
    /// The hours of the readings of <c>[from, to)</c> summed up from <c>device_data</c>, only those received in
    /// <paramref name="windows"/> (null: all): a straddling hour, a partial hour at the end of a summary's range.
    /// </summary>
    public async Task<IReadOnlyList<MetricHour>> SumStoredAsync(
        string serial, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<ReceivedWindow>? windows, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument
        {
            { DeviceDataDocument.Fields.Serial, serial },
            { DeviceDataDocument.Fields.Timestamp, new BsonDocument { { "$gte", new BsonDateTime(from.UtcDateTime) }, { "$lt", new BsonDateTime(to.UtcDateTime) } } },
        };
        var sums = new SortedDictionary<DateTimeOffset, MetricHourSums>();
        using var cursor = await _deviceData.Find(filter).ToCursorAsync(cancellationToken);
        while (await cursor.MoveNextAsync(cancellationToken))
        {
            foreach (var document in cursor.Current)
            {
                var received = new DateTimeOffset(document[DeviceDataDocument.Fields.Gateway][DeviceDataDocument.Fields.GatewayReceivedAt].ToUniversalTime());
                if (windows is not null && !windows.Any(w => w.Contains(received)))
                {
                    continue;
                }
                var deviceTime = new DateTimeOffset(document[DeviceDataDocument.Fields.Timestamp].ToUniversalTime());
                var metrics = document[DeviceDataDocument.Fields.Metrics].AsBsonDocument;
                var values = new double?[Metrics.Length];
                for (var i = 0; i < Metrics.Length; i++)
                {
                    values[i] = metrics.TryGetValue(Metrics[i], out var value) && value.IsNumeric ? value.ToDouble() : null;
                }
                var hour = HourOf(deviceTime);
                if (!sums.TryGetValue(hour, out var hourSums))
                {
                    sums[hour] = hourSums = new MetricHourSums(serial, hour, Metrics.Length);
                }
                hourSums.Add(received, document[DeviceDataDocument.Fields.Urgent].ToBoolean(), values);
            }
        }
        return [.. sums.Values.Select(s => s.ToHour())];
    }

    private static IEnumerable<MetricHour> Sum(IReadOnlyList<StoredReading> readings)
    {
        var sums = new Dictionary<(string, DateTimeOffset), MetricHourSums>();
        foreach (var reading in readings)
        {
            var metrics = ((CpapTelemetry)reading.Reading).Metrics;
            var key = (reading.Serial.Value, HourOf(reading.DeviceTime));
            if (!sums.TryGetValue(key, out var hourSums))
            {
                sums[key] = hourSums = new MetricHourSums(key.Item1, key.Item2, Metrics.Length);
            }
            hourSums.Add(reading.GatewayReceivedAt, reading.Urgent, [metrics.PressureCmH2O, metrics.RespiratoryRate, metrics.LeakRateLpm]);
        }
        return sums.Values.OrderBy(s => s.Serial, StringComparer.Ordinal).ThenBy(s => s.Hour).Select(s => s.ToHour());
    }

    private static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTimeOffset(utc.Date.AddHours(utc.Hour), TimeSpan.Zero);
    }

    private static BsonDocument Key(string serial, DateTimeOffset hour) =>
        new("_id", $"{serial}/{hour.UtcDateTime:yyyy-MM-dd'T'HH}");

    private static BsonDocument ToDocument(MetricHour hour)
    {
        var document = new BsonDocument
        {
            { "serial", hour.Serial },
            { "hour", new BsonDateTime(hour.Hour.UtcDateTime) },
            { "readings", hour.Readings },
            { "alarms", hour.Alarms },
            { "first_received_at", new BsonDateTime(hour.FirstReceivedAt.UtcDateTime) },
            { "last_received_at", new BsonDateTime(hour.LastReceivedAt.UtcDateTime) },
        };
        for (var i = 0; i < Metrics.Length; i++)
        {
            var stats = hour.Metrics[i];
            document.Add($"{Metrics[i]}_count", stats.Count).Add($"{Metrics[i]}_sum", stats.Sum);
            if (stats.Count > 0)
            {
                document.Add($"{Metrics[i]}_min", stats.Min!.Value).Add($"{Metrics[i]}_max", stats.Max!.Value);
            }
        }
        return document;
    }

    private static MetricHour FromDocument(BsonDocument document)
    {
        var stats = new MetricStats[Metrics.Length];
        for (var i = 0; i < Metrics.Length; i++)
        {
            var count = document[$"{Metrics[i]}_count"].ToInt64();
            stats[i] = new MetricStats(count, document[$"{Metrics[i]}_sum"].ToDouble(),
                count > 0 ? document[$"{Metrics[i]}_min"].ToDouble() : null,
                count > 0 ? document[$"{Metrics[i]}_max"].ToDouble() : null);
        }
        return new MetricHour(
            document["serial"].AsString,
            new DateTimeOffset(document["hour"].ToUniversalTime()),
            document["readings"].ToInt64(),
            document["alarms"].ToInt64(),
            stats,
            new DateTimeOffset(document["first_received_at"].ToUniversalTime()),
            new DateTimeOffset(document["last_received_at"].ToUniversalTime()));
    }
}

/// <summary>One hour of one device's readings being summed up per metric, in code (MongoDB's rollups).</summary>
internal sealed class MetricHourSums(string serial, DateTimeOffset hour, int metrics)
{
    private readonly long[] _count = new long[metrics];
    private readonly double[] _sum = new double[metrics];
    private readonly double[] _min = Enumerable.Repeat(double.PositiveInfinity, metrics).ToArray();
    private readonly double[] _max = Enumerable.Repeat(double.NegativeInfinity, metrics).ToArray();
    private long _readings;
    private long _alarms;
    private DateTimeOffset _first = DateTimeOffset.MaxValue;
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    public string Serial => serial;

    public DateTimeOffset Hour => hour;

    public void Add(DateTimeOffset receivedAt, bool alarm, IReadOnlyList<double?> values)
    {
        _readings++;
        _alarms += alarm ? 1 : 0;
        _first = receivedAt < _first ? receivedAt : _first;
        _last = receivedAt > _last ? receivedAt : _last;
        for (var i = 0; i < _count.Length; i++)
        {
            if (values[i] is { } value)
            {
                _count[i]++;
                _sum[i] += value;
                _min[i] = Math.Min(_min[i], value);
                _max[i] = Math.Max(_max[i], value);
            }
        }
    }

    public MetricHour ToHour() => new(serial, hour, _readings, _alarms,
        [.. Enumerable.Range(0, _count.Length).Select(i => new MetricStats(_count[i], _sum[i], _count[i] > 0 ? _min[i] : null, _count[i] > 0 ? _max[i] : null))],
        _first, _last);
}
