using System.Globalization;
using System.Text;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Storage.Cpap;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Queries;

/// <summary>
/// The read side of the MongoDB CPAP store: the <c>find</c> filter and sort of a keyset page, the aggregation pipeline of a
/// summary, and the index they use, as plain functions so their shape is checked without a server.
/// </summary>
/// <remarks>
/// Keyset order is (<c>timestamp</c>, <c>gateway.receivedAt</c>, <c>gateway.epoch</c>, <c>seq</c>, <c>_id</c>): equal device
/// times in the order the gateway received them, as in PostgreSQL (<see cref="TelemetryCursor"/>). <c>_id</c> is a
/// subtype-4 UUID, which MongoDB compares byte by byte, in the same order PostgreSQL compares uuids. <c>$dateTrunc</c>
/// needs MongoDB 5.0 or later.
/// </remarks>
internal static class CpapMongoQueries
{
    /// <summary>The index a page is one range scan of, with the sort taken from the index (no in-memory sort).</summary>
    public const string KeysetIndex = "serial_1_timestamp_1_arrival_1";

    /// <summary>The keyset index before arrival order, (serial, timestamp, _id): dropped once the new one exists.</summary>
    public const string FormerKeysetIndex = "serial_1_timestamp_1__id_1";

    private const string ReceivedAtField = DeviceDataDocument.Fields.Gateway + "." + DeviceDataDocument.Fields.GatewayReceivedAt;
    private const string EpochField = DeviceDataDocument.Fields.Gateway + "." + DeviceDataDocument.Fields.GatewayEpoch;

    private const string Fields = DeviceDataDocument.Fields.Metrics + ".";

    // Metric name → document field: fixed strings, looked up by the validated name.
    private static readonly Dictionary<string, string> MetricFields = new(StringComparer.Ordinal)
    {
        [ReadingMetrics.PressureCmH2O] = Fields + DeviceDataDocument.Fields.PressureCmH2O,
        [ReadingMetrics.RespiratoryRate] = Fields + DeviceDataDocument.Fields.RespiratoryRate,
        [ReadingMetrics.LeakRateLpm] = Fields + DeviceDataDocument.Fields.LeakRateLpm,
    };

    public static IReadOnlyDictionary<string, string> Metrics => MetricFields;

    /// <summary>The index specification of <see cref="KeysetIndex"/>, as <c>createIndexes</c> takes it.</summary>
    public static BsonDocument KeysetIndexSpec() => new()
    {
        {
            "key", new BsonDocument
            {
                { DeviceDataDocument.Fields.Serial, 1 },
                { DeviceDataDocument.Fields.Timestamp, 1 },
                { ReceivedAtField, 1 },
                { EpochField, 1 },
                { DeviceDataDocument.Fields.Sequence, 1 },
                { DeviceDataDocument.Fields.Id, 1 },
            }
        },
        { "name", KeysetIndex },
    };

    /// <summary>
    /// A <c>createIndexes</c> for the keyset index when <paramref name="existing"/> (what listIndexes returned) lacks it,
    /// then a <c>dropIndexes</c> of the former one when it is there; else nothing.
    /// </summary>
    public static IReadOnlyList<BsonDocument> PlanIndexCommands(IEnumerable<BsonDocument> existing)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var index in existing)
        {
            if (index.TryGetValue("name", out var name) && name.IsString)
            {
                names.Add(name.AsString);
            }
        }
        var commands = new List<BsonDocument>();
        if (!names.Contains(KeysetIndex))
        {
            commands.Add(new BsonDocument { { "createIndexes", CpapMongoSchema.DeviceDataCollection }, { "indexes", new BsonArray { KeysetIndexSpec() } } });
        }
        if (names.Contains(FormerKeysetIndex))
        {
            commands.Add(new BsonDocument { { "dropIndexes", CpapMongoSchema.DeviceDataCollection }, { "index", FormerKeysetIndex } });
        }
        return commands;
    }

    /// <summary>The <c>find</c> filter of a page (validated query).</summary>
    public static BsonDocument TelemetryFilter(TelemetryQuery query)
    {
        var from = query.From;
        if (query.After is { } after && after.DeviceTime > from)
        {
            // Bounding the time by the cursor as well keeps the index scan from starting at From on every page.
            from = after.DeviceTime;
        }
        var filter = new BsonDocument
        {
            { DeviceDataDocument.Fields.Serial, query.Serial.Value },
            { DeviceDataDocument.Fields.Timestamp, new BsonDocument { { "$gte", Date(from) }, { "$lt", Date(query.To) } } },
        };
        if (query.After is { } cursor)
        {
            // With timestamp >= the cursor's above: the key (timestamp, receivedAt, epoch, seq, _id) compared in order,
            // written out as "a later time, or the same time and a later receive time, or …".
            var time = Date(cursor.DeviceTime);
            var received = Date(cursor.ReceivedAt);
            filter.Add("$or", new BsonArray
            {
                new BsonDocument(DeviceDataDocument.Fields.Timestamp, new BsonDocument("$gt", time)),
                new BsonDocument { { DeviceDataDocument.Fields.Timestamp, time }, { ReceivedAtField, new BsonDocument("$gt", received) } },
                new BsonDocument { { DeviceDataDocument.Fields.Timestamp, time }, { ReceivedAtField, received }, { EpochField, new BsonDocument("$gt", cursor.Epoch) } },
                new BsonDocument
                {
                    { DeviceDataDocument.Fields.Timestamp, time }, { ReceivedAtField, received }, { EpochField, cursor.Epoch },
                    { DeviceDataDocument.Fields.Sequence, new BsonDocument("$gt", cursor.Sequence) },
                },
                new BsonDocument
                {
                    { DeviceDataDocument.Fields.Timestamp, time }, { ReceivedAtField, received }, { EpochField, cursor.Epoch },
                    { DeviceDataDocument.Fields.Sequence, cursor.Sequence },
                    { DeviceDataDocument.Fields.Id, new BsonDocument("$gt", new BsonBinaryData(cursor.Id, GuidRepresentation.Standard)) },
                },
            });
        }
        if (query.AlarmsOnly)
        {
            // CPAP readings carry no alarm field of their own: the gateway's urgent flag (thresholds crossed) is the signal.
            filter.Add(DeviceDataDocument.Fields.Urgent, true);
        }
        var bounds = new BsonArray();
        if (query.ReceivedWithin is { } windows)
        {
            bounds.Add(ReceivedWithin(windows));
        }
        foreach (var metric in query.Filters ?? [])
        {
            var field = MetricFields[metric.Metric];
            if (metric.Min is { } min)
            {
                bounds.Add(new BsonDocument(field, new BsonDocument("$gte", min)));
            }
            if (metric.Max is { } max)
            {
                bounds.Add(new BsonDocument(field, new BsonDocument("$lte", max)));
            }
        }
        if (bounds.Count > 0)
        {
            filter.Add("$and", bounds);
        }
        return filter;
    }

    /// <summary>
    /// The condition that keeps readings the gateway received in one of the windows (a clinic's ownership periods); the
    /// callers answer an empty list of windows with nothing before asking MongoDB ($or needs at least one branch).
    /// </summary>
    public static BsonDocument ReceivedWithin(IReadOnlyList<ReceivedWindow> windows)
    {
        var field = DeviceDataDocument.Fields.Gateway + "." + DeviceDataDocument.Fields.GatewayReceivedAt;
        var any = new BsonArray();
        foreach (var window in windows)
        {
            var range = new BsonDocument("$gte", Date(window.From));
            if (window.To is { } to)
            {
                range.Add("$lt", Date(to));
            }
            any.Add(new BsonDocument(field, range));
        }
        return new BsonDocument("$or", any);
    }

    /// <summary>The sort of a page: the keyset order.</summary>
    public static BsonDocument TelemetrySort() => new()
    {
        { DeviceDataDocument.Fields.Timestamp, 1 }, { ReceivedAtField, 1 }, { EpochField, 1 }, { DeviceDataDocument.Fields.Sequence, 1 }, { DeviceDataDocument.Fields.Id, 1 },
    };

    public static async Task<TelemetryPage> QueryAsync(IMongoCollection<BsonDocument> deviceData, TelemetryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ReadingMetrics.Require(query.Serial, query.Filters, "cpap", DeviceKind.Cpap, DeviceKind.Bipap);
        if (query.From >= query.To || query.ReceivedWithin is { Count: 0 })
        {
            return new TelemetryPage([], null);
        }

        var limit = query.EffectiveLimit;
        var documents = await deviceData.Find(TelemetryFilter(query)).Sort(TelemetrySort()).Limit(limit + 1).ToListAsync(cancellationToken);
        var rows = new List<TelemetryRow>(documents.Count);
        foreach (var document in documents)
        {
            rows.Add(ToRow(document));
        }
        return TelemetryPage.FromLimitPlusOne(rows, limit);
    }

    /// <summary>A <c>device_data</c> document as a row; the payload is rebuilt from the device's fields (no raw copy is kept).</summary>
    public static TelemetryRow ToRow(BsonDocument document)
    {
        var gateway = document[DeviceDataDocument.Fields.Gateway].AsBsonDocument;
        var deviceTime = Time(document[DeviceDataDocument.Fields.Timestamp]);
        return new TelemetryRow(
            document[DeviceDataDocument.Fields.Id].AsBsonBinaryData.ToGuid(GuidRepresentation.Standard),
            document[DeviceDataDocument.Fields.Serial].AsString,
            deviceTime,
            Time(gateway[DeviceDataDocument.Fields.GatewayReceivedAt]),
            Time(document[DeviceDataDocument.Fields.StoredAt]),
            gateway[DeviceDataDocument.Fields.GatewayId].AsString,
            gateway[DeviceDataDocument.Fields.GatewayEpoch].ToInt64(),
            document[DeviceDataDocument.Fields.Sequence].ToInt64(),
            document[DeviceDataDocument.Fields.Urgent].ToBoolean(),
            PayloadJson(document, deviceTime));
    }

    // The device's own fields in the order devices send them: serial, timestamp, metrics, firmware.
    private static string PayloadJson(BsonDocument document, DateTimeOffset deviceTime)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(DeviceDataDocument.Fields.Serial, document[DeviceDataDocument.Fields.Serial].AsString);
            writer.WriteString(DeviceDataDocument.Fields.Timestamp,
                deviceTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
            writer.WriteStartObject(DeviceDataDocument.Fields.Metrics);
            foreach (var metric in document[DeviceDataDocument.Fields.Metrics].AsBsonDocument)
            {
                WriteValue(writer, metric.Name, metric.Value);
            }
            writer.WriteEndObject();
            if (document.TryGetValue(DeviceDataDocument.Fields.Firmware, out var firmware))
            {
                WriteValue(writer, DeviceDataDocument.Fields.Firmware, firmware);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteValue(Utf8JsonWriter writer, string name, BsonValue value)
    {
        switch (value.BsonType)
        {
            case BsonType.Double:
                writer.WriteNumber(name, value.AsDouble);
                break;
            case BsonType.Int32 or BsonType.Int64:
                writer.WriteNumber(name, value.ToInt64());
                break;
            case BsonType.String:
                writer.WriteString(name, value.AsString);
                break;
            case BsonType.Boolean:
                writer.WriteBoolean(name, value.AsBoolean);
                break;
            default:
                // DeviceDataDocument writes only numbers and strings; anything else was put there by hand.
                writer.WriteNull(name);
                break;
        }
    }

    private static BsonDateTime Date(DateTimeOffset time) => new(time.UtcDateTime);

    private static DateTimeOffset Time(BsonValue value) => new(value.ToUniversalTime());
}
