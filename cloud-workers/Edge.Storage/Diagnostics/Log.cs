using Microsoft.Extensions.Logging;

namespace Edge.Storage;

/// <summary>Every log line the stores write, with stable event ids a technician can search for (5xxx).</summary>
internal static partial class Log
{
    // 50xx schema
    [LoggerMessage(5006, LogLevel.Warning, "{What}: the database cannot be reached (attempt {Attempt}: {Reason}); waiting {DelaySeconds:0} s before trying again")]
    public static partial void UnreachableAtStart(ILogger logger, string what, int attempt, string reason, double delaySeconds);

    [LoggerMessage(5007, LogLevel.Information, "{What}: the database answered on attempt {Attempt}")]
    public static partial void ReachableAtStart(ILogger logger, string what, int attempt);

    [LoggerMessage(5001, LogLevel.Information, "Store {Store}: applied migration {Version} ({Description})")]
    public static partial void MigrationApplied(ILogger logger, string store, int version, string description);

    [LoggerMessage(5002, LogLevel.Debug, "Store {Store}: schema is up to date at version {Version}")]
    public static partial void SchemaUpToDate(ILogger logger, string store, int version);

    [LoggerMessage(5003, LogLevel.Warning, "Store {Store}: the database is at schema version {DatabaseVersion}, newer than this build's {CodeVersion}; a newer worker migrated it")]
    public static partial void SchemaNewerThanCode(ILogger logger, string store, int databaseVersion, int codeVersion);

    [LoggerMessage(5004, LogLevel.Information, "Table {Table}: uses {Layout} (TimescaleDB usable: {TimescaleUsable})")]
    public static partial void EcgLayout(ILogger logger, string table, string layout, bool timescaleUsable);

    // 51xx partitions and retention
    [LoggerMessage(5101, LogLevel.Information, "Created partition {Partition} of {Table}; moved {MovedRows} rows into it from the default partition")]
    public static partial void PartitionCreated(ILogger logger, string partition, string table, int movedRows);

    [LoggerMessage(5102, LogLevel.Information, "Retention on {Table} (readings before {Cutoff:o}): dropped {Dropped} ({Names}), deleted {DeletedRows} rows")]
    public static partial void RetentionApplied(ILogger logger, string table, DateTimeOffset cutoff, int dropped, string names, int deletedRows);

    [LoggerMessage(5103, LogLevel.Warning, "Could not create a partition of {Table} now; readings of that month go to the default partition until a later write manages it")]
    public static partial void PartitionDeferred(ILogger logger, string table, Exception error);

    // 52xx writes
    [LoggerMessage(5201, LogLevel.Debug, "Store {Store}: wrote a batch of {Count}, {Stored} new")]
    public static partial void BatchWritten(ILogger logger, string store, int count, int stored);

    [LoggerMessage(5202, LogLevel.Warning, "Store {Store}: writing a batch of {Count} failed and is retried once (connection lost: {ConnectionLost})")]
    public static partial void WriteRetried(ILogger logger, string store, int count, bool connectionLost, Exception error);

    // 53xx MongoDB
    [LoggerMessage(5301, LogLevel.Information, "MongoDB: created collection {Collection}")]
    public static partial void MongoCollectionCreated(ILogger logger, string collection);

    [LoggerMessage(5302, LogLevel.Information, "MongoDB: ran {Command} on {Collection}: {Spec}")]
    public static partial void MongoIndexCommand(ILogger logger, string command, string collection, string spec);

    // 54xx ingest ledger
    [LoggerMessage(5401, LogLevel.Warning, "Dead letter {Id} from gateway {GatewayId} on {Topic}: {Reason}")]
    public static partial void DeadLetterRecorded(ILogger logger, long id, string gatewayId, string topic, string reason);

    [LoggerMessage(5402, LogLevel.Warning, "Recorded {Recorded} of {Count} rejected readings from gateway {GatewayId}")]
    public static partial void ReadingsRejected(ILogger logger, int recorded, int count, string gatewayId);
}
