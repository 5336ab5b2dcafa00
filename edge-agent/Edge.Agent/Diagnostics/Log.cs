using Microsoft.Extensions.Logging;

namespace Edge.Agent;

/// <summary>Every log line the agent writes, with stable event ids a technician can search for.</summary>
internal static partial class Log
{
    // 1xxx journal
    [LoggerMessage(1001, LogLevel.Information, "Journal {Path} open: epoch {Epoch}, last sequence {LastSequence}, {Entries} entries waiting, {UsedBytes} of {QuotaBytes} bytes used, opened in {OpenMs} ms")]
    public static partial void JournalOpened(ILogger logger, string path, long epoch, long lastSequence, long entries, long usedBytes, long quotaBytes, long openMs);

    [LoggerMessage(1002, LogLevel.Error, "Journal group commit of {Count} operations failed; nothing in it was acknowledged")]
    public static partial void JournalCommitFailed(ILogger logger, int count, Exception error);

    [LoggerMessage(1004, LogLevel.Critical, "Journal fdatasync failed: acknowledged durability can no longer be promised; stopping so the service restarts and reopens the journal from disk")]
    public static partial void JournalSyncFailed(ILogger logger, Exception error);

    [LoggerMessage(1003, LogLevel.Information, "Journal closed cleanly")]
    public static partial void JournalClosed(ILogger logger);

    // 2xxx broker
    [LoggerMessage(2001, LogLevel.Information, "Device broker listening on {Endpoints}")]
    public static partial void BrokerStarted(ILogger logger, string endpoints);

    [LoggerMessage(2002, LogLevel.Warning, "Connection refused for client '{ClientId}' user '{UserName}' from {Remote}: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string clientId, string userName, string remote, string reason);

    [LoggerMessage(2003, LogLevel.Information, "Device {Serial} connected from {Remote} (MQTT {Protocol})")]
    public static partial void DeviceConnected(ILogger logger, string serial, string remote, string protocol);

    [LoggerMessage(2004, LogLevel.Information, "Device {Serial} disconnected ({Reason})")]
    public static partial void DeviceDisconnected(ILogger logger, string serial, string reason);

    [LoggerMessage(2005, LogLevel.Warning, "Subscription refused for {Serial} to '{Filter}': {Reason}")]
    public static partial void SubscriptionRefused(ILogger logger, string serial, string filter, string reason);

    [LoggerMessage(2006, LogLevel.Information, "Device broker stopped")]
    public static partial void BrokerStopped(ILogger logger);

    // 3xxx ingest
    [LoggerMessage(3001, LogLevel.Warning, "Refused {Topic} from {ClientId}: {ReasonCode} {Reason}")]
    public static partial void PublishRefused(ILogger logger, string topic, string clientId, string reasonCode, string reason);

    [LoggerMessage(3002, LogLevel.Error, "Journal append failed for {Topic}; the device was not acknowledged and will re-send")]
    public static partial void AppendFailed(ILogger logger, string topic, Exception error);

    // 4xxx credentials and admin
    [LoggerMessage(4001, LogLevel.Information, "Device credential {Action} for {Serial}")]
    public static partial void CredentialChanged(ILogger logger, string action, string serial);

    [LoggerMessage(4002, LogLevel.Information, "Admin interface listening on unix:{SocketPath}")]
    public static partial void AdminListening(ILogger logger, string socketPath);
}
