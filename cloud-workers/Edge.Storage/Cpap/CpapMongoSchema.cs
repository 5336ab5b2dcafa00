using MongoDB.Bson;

namespace Edge.Storage.Cpap;

/// <summary>
/// The MongoDB collections and indexes of the CPAP store, as the server commands that create them, so they can be
/// checked without a server.
/// </summary>
public static class CpapMongoSchema
{
    public const string DeviceDataCollection = "device_data";
    public const string DeviceConfigCollection = "device_config";

    /// <summary>Readings of one device in time order: the dashboards' query.</summary>
    public const string SerialTimestampIndex = "serial_1_timestamp_1";

    /// <summary>TTL index: the server deletes a reading once its device time is older than the retention.</summary>
    public const string RetentionIndex = "timestamp_ttl";

    /// <summary>
    /// A reading's content once: a device's re-send journaled again under another sequence has another <c>_id</c> but
    /// the same content id. Partial: documents stored before content ids have none, and any number of them may lack it.
    /// </summary>
    public const string ContentIdIndex = "contentId_unique";

    public static IReadOnlyList<string> Collections { get; } = [DeviceDataCollection, DeviceConfigCollection];

    /// <summary>The index specifications of <c>device_data</c>, as <c>createIndexes</c> takes them.</summary>
    public static IReadOnlyList<BsonDocument> DeviceDataIndexes(int retentionDays) =>
    [
        new BsonDocument
        {
            { "key", new BsonDocument { { DeviceDataDocument.Fields.Serial, 1 }, { DeviceDataDocument.Fields.Timestamp, 1 } } },
            { "name", SerialTimestampIndex },
        },
        new BsonDocument
        {
            { "key", new BsonDocument { { DeviceDataDocument.Fields.Timestamp, 1 } } },
            { "name", RetentionIndex },
            { "expireAfterSeconds", ExpireAfterSeconds(retentionDays) },
        },
        new BsonDocument
        {
            { "key", new BsonDocument { { DeviceDataDocument.Fields.ContentId, 1 } } },
            { "name", ContentIdIndex },
            { "unique", true },
            { "partialFilterExpression", new BsonDocument { { DeviceDataDocument.Fields.ContentId, new BsonDocument { { "$exists", true } } } } },
        },
    ];

    public static int ExpireAfterSeconds(int retentionDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retentionDays, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(retentionDays, 3650);
        return retentionDays * 86_400;
    }

    /// <summary>
    /// The commands that bring <c>device_data</c>'s indexes from <paramref name="existing"/> (what <c>listIndexes</c>
    /// returned) to the wanted ones: <c>createIndexes</c> for missing indexes, and <c>collMod</c> when the retention
    /// changed (the TTL of an existing index cannot be changed by creating it again). Empty when nothing is to do.
    /// </summary>
    public static IReadOnlyList<BsonDocument> PlanIndexCommands(IEnumerable<BsonDocument> existing, int retentionDays)
    {
        var byName = new Dictionary<string, BsonDocument>(StringComparer.Ordinal);
        foreach (var index in existing)
        {
            if (index.TryGetValue("name", out var name) && name.IsString)
            {
                byName[name.AsString] = index;
            }
        }

        var commands = new List<BsonDocument>();
        var missing = new BsonArray();
        foreach (var wanted in DeviceDataIndexes(retentionDays))
        {
            var name = wanted["name"].AsString;
            if (!byName.TryGetValue(name, out var current))
            {
                missing.Add(wanted);
            }
            else if (wanted.TryGetValue("expireAfterSeconds", out var ttl)
                && (!current.TryGetValue("expireAfterSeconds", out var currentTtl) || !currentTtl.IsNumeric || currentTtl.ToInt64() != ttl.ToInt64()))
            {
                commands.Add(new BsonDocument
                {
                    { "collMod", DeviceDataCollection },
                    { "index", new BsonDocument { { "name", name }, { "expireAfterSeconds", ttl } } },
                });
            }
        }
        if (missing.Count > 0)
        {
            commands.Insert(0, new BsonDocument { { "createIndexes", DeviceDataCollection }, { "indexes", missing } });
        }
        return commands;
    }
}
