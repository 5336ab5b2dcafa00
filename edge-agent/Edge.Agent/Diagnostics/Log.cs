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

    [LoggerMessage(1005, LogLevel.Warning, "Journal checkpoint failed with {LogPages} log pages; retried after the next commit (the log keeps every committed change)")]
    public static partial void JournalCheckpointFailed(ILogger logger, long logPages, Exception error);

    [LoggerMessage(1010, LogLevel.Warning, "Journal {Path} is not encrypted at rest: whoever has this disk can read its readings (docs/security.md, \"At rest\")")]
    public static partial void JournalNotEncrypted(ILogger logger, string path);

    [LoggerMessage(1011, LogLevel.Warning, "Journal {Path} was created without encryption and stays unencrypted: LiteDB cannot encrypt an existing file, so the key from {KeySource} is not used (docs/operations.md, \"Encrypting an existing journal\")")]
    public static partial void JournalKeyNotUsed(ILogger logger, string path, string keySource);

    [LoggerMessage(1012, LogLevel.Information, "Journal {Path} is encrypted at rest with the key from {KeySource}")]
    public static partial void JournalEncrypted(ILogger logger, string path, string keySource);

    [LoggerMessage(1020, LogLevel.Information, "Journal write-ahead log {Path} replayed: {Records} records of generation {Generation} ({Appended} readings re-applied), LiteDB's log cut from {LogLength} to {BaseLogLength} bytes")]
    public static partial void JournalWalReplayed(ILogger logger, string path, int records, long generation, int appended, long logLength, long baseLogLength);

    [LoggerMessage(1021, LogLevel.Information, "Journal write-ahead log {Path} in use ({CapacityBytes} bytes): readings are acknowledged after its fdatasync and applied to LiteDB in batches")]
    public static partial void JournalWalInUse(ILogger logger, string path, long capacityBytes);

    [LoggerMessage(1022, LogLevel.Warning, "Journal write-ahead log {Path} filled before LiteDB caught up: commits waited for LiteDB's sync (logged once; edgectl agent status and edge_journal_wal_full_total count them). A larger Agent:Journal:WriteAheadLogBytes avoids it")]
    public static partial void JournalWalFull(ILogger logger, string path);

    [LoggerMessage(1023, LogLevel.Information, "Journal {Path} is encrypted, so the write-ahead log is not used: its records would hold payloads in the clear (docs/durability.md)")]
    public static partial void JournalWalNotForEncrypted(ILogger logger, string path);

    [LoggerMessage(1024, LogLevel.Warning, "Journal write-ahead log {Path} has no valid header (new, or torn while it was being recycled, when LiteDB was already durable): nothing to replay")]
    public static partial void JournalWalHeaderInvalid(ILogger logger, string path);

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

    [LoggerMessage(2007, LogLevel.Debug, "Device listener refused a connection from {Remote}: {Reason}")]
    public static partial void ListenerRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(2008, LogLevel.Warning, "Device listener closed the connection from {Remote} ({Code}): {Reason}")]
    public static partial void ListenerClosed(ILogger logger, string remote, string code, string reason);

    [LoggerMessage(2009, LogLevel.Warning, "Device listener could not accept a connection ({Error}); still listening")]
    public static partial void ListenerAcceptFailed(ILogger logger, string error);

    [LoggerMessage(2010, LogLevel.Warning, "Device {ClientId} disconnected: {Count} refused publishes within {Seconds} s (Agent:Broker:MaxRefusals); it may reconnect")]
    public static partial void DeviceRefusalLimit(ILogger logger, string clientId, int count, int seconds);

    // 2020-2029 device TLS
    [LoggerMessage(2020, LogLevel.Information, "Created the gateway's device CA {Path} (SHA-256 {Fingerprint}); devices must trust it to connect: edgectl agent device-ca")]
    public static partial void DeviceCaCreated(ILogger logger, string path, string fingerprint);

    [LoggerMessage(2021, LogLevel.Information, "Issued the device listener's server certificate for {Names}, valid until {NotAfter:O}")]
    public static partial void ServerCertificateIssued(ILogger logger, string names, DateTime notAfter);

    [LoggerMessage(2022, LogLevel.Warning, "Plain MQTT listener on {Endpoint} is on (Agent:Broker:Port): device secrets and readings cross the network unencrypted. Set Agent:Broker:Port to 0 once every device uses TLS (port {TlsPort})")]
    public static partial void PlainListenerOn(ILogger logger, string endpoint, int tlsPort);

    [LoggerMessage(2023, LogLevel.Error, "Could not renew the device listener's server certificate (valid until {NotAfter:O}); next attempt in {RetryMinutes} min")]
    public static partial void ServerCertificateRenewalFailed(ILogger logger, DateTime notAfter, double retryMinutes, Exception error);

    [LoggerMessage(2024, LogLevel.Warning, "The device listener's certificate {Path} expires at {NotAfter:O}; it is configured (Agent:Broker:Tls:CertificatePath), so the agent does not renew it: replace it and restart")]
    public static partial void ConfiguredCertificateExpiring(ILogger logger, string path, DateTime notAfter);

    // 3xxx ingest
    [LoggerMessage(3001, LogLevel.Warning, "Refused {Topic} from {ClientId}: {ReasonCode} {Reason}")]
    public static partial void PublishRefused(ILogger logger, string topic, string clientId, string reasonCode, string reason);

    [LoggerMessage(3002, LogLevel.Error, "Journal append failed for {Topic}; the device was not acknowledged and will re-send")]
    public static partial void AppendFailed(ILogger logger, string topic, Exception error);

    // 3010-3019: what the ingest path did not expect (fuzzing, docs/fuzzing.md).
    [LoggerMessage(3010, LogLevel.Error, "Processing {Topic} from {ClientId} failed unexpectedly; refused and dead-lettered, the connection stays up")]
    public static partial void PublishFailed(ILogger logger, string topic, string clientId, Exception error);

    // 6xxx uplink
    [LoggerMessage(6001, LogLevel.Information, "Uplink connected to {Endpoint}")]
    public static partial void UplinkConnected(ILogger logger, string endpoint);

    [LoggerMessage(6002, LogLevel.Warning, "Uplink disconnected from {Endpoint}; readings stay in the journal until it is back")]
    public static partial void UplinkDisconnected(ILogger logger, string endpoint);

    [LoggerMessage(6003, LogLevel.Warning, "Uplink cannot connect to {Endpoint} ({Reason}); next attempt in {DelaySeconds:0.0} s")]
    public static partial void UplinkConnectFailed(ILogger logger, string endpoint, double delaySeconds, string reason);

    [LoggerMessage(6004, LogLevel.Warning, "Uplink publish failed ({Reason}); the batch will be re-sent")]
    public static partial void UplinkPublishFailed(ILogger logger, string reason);

    [LoggerMessage(6005, LogLevel.Warning, "No commit ack for {Lane} batch {First}-{Last} after {TimeoutSeconds} s; re-sending")]
    public static partial void UplinkAckTimeout(ILogger logger, string lane, long first, long last, double timeoutSeconds);

    [LoggerMessage(6006, LogLevel.Warning, "Ignored a message on {Topic}: {Reason}")]
    public static partial void UplinkAckIgnored(ILogger logger, string topic, string reason);

    [LoggerMessage(6007, LogLevel.Error, "The cloud could not decode {Lane} batch {First}-{Last} and dead-lettered it; it is removed from the journal")]
    public static partial void UplinkBatchDeadLettered(ILogger logger, string lane, long first, long last);

    [LoggerMessage(6009, LogLevel.Warning, "Uplink found {Entries} {Lane} readings waiting behind its cursor ({Cursor}) with nothing in flight (sequences {Sequences}); re-reading the lane from its head")]
    public static partial void UplinkCursorReset(ILogger logger, string lane, long cursor, long entries, string sequences);

    [LoggerMessage(6010, LogLevel.Error, "Uplink could not handle a message on {Topic}; it is acknowledged and dropped")]
    public static partial void DownlinkFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(6011, LogLevel.Critical, "Uplink worker {Worker} stopped with an error; telemetry keeps syncing, restart the agent to restore it")]
    public static partial void UplinkWorkerFailed(ILogger logger, string worker, Exception exception);

    [LoggerMessage(6012, LogLevel.Error, "Uplink set aside {Lane} reading {Sequence} of {Serial} as a dead letter: {Reason}")]
    public static partial void UplinkReadingTooLarge(ILogger logger, string lane, long sequence, string serial, string reason);

    [LoggerMessage(6013, LogLevel.Error, "Uplink could not send {What}: {Reason}; it is kept as a dead letter")]
    public static partial void UplinkMessageTooLarge(ILogger logger, string what, string reason);

    [LoggerMessage(6008, LogLevel.Warning, "No uplink configured (Agent:Uplink:Host); readings are journaled but not sent")]
    public static partial void UplinkDisabled(ILogger logger);

    // 4xxx credentials and admin
    [LoggerMessage(4001, LogLevel.Information, "Device credential {Action} for {Serial}")]
    public static partial void CredentialChanged(ILogger logger, string action, string serial);

    [LoggerMessage(4002, LogLevel.Information, "Admin interface listening on unix:{SocketPath}")]
    public static partial void AdminListening(ILogger logger, string socketPath);

    [LoggerMessage(4030, LogLevel.Information, "Admin {Method} {Path} by {Caller} (uid {Uid}, pid {Pid}): {StatusCode}")]
    public static partial void AdminRequest(ILogger logger, string method, string path, string caller, int? uid, int? pid, int statusCode);

    [LoggerMessage(4031, LogLevel.Information, "Admin socket {SocketPath} is mode {Mode}, group {Group}")]
    public static partial void AdminSocketAccess(ILogger logger, string socketPath, string mode, string group);

    [LoggerMessage(6201, LogLevel.Warning, "Refused a {What} message from the cloud for {Serial}: {Reason}")]
    public static partial void DownlinkRefused(ILogger logger, string what, string serial, string reason);

    [LoggerMessage(6202, LogLevel.Information, "Config version {Version} for {Serial} is not newer than the one stored; ignored")]
    public static partial void ConfigNotNewer(ILogger logger, string serial, int version);

    [LoggerMessage(6203, LogLevel.Information, "Config version {Version} ({Source}) stored and published to {Serial}")]
    public static partial void ConfigDelivered(ILogger logger, string serial, int version, string source);

    [LoggerMessage(6204, LogLevel.Information, "Firmware {Version} (job {JobId}) relayed to {Serial}")]
    public static partial void FirmwareRelayed(ILogger logger, string serial, string version, Guid jobId);

    [LoggerMessage(6205, LogLevel.Warning, "Could not send {Count} device events ({Reason}); they stay queued")]
    public static partial void EventsPublishFailed(ILogger logger, int count, string reason);

    [LoggerMessage(6206, LogLevel.Information, "Device state restored: {Configs} desired configs and {Offers} firmware offers republished, {Events} events waiting for the cloud")]
    public static partial void DeviceStateRestored(ILogger logger, int configs, int offers, int events);

    [LoggerMessage(6207, LogLevel.Information, "{Serial} answered config version {Version}: {Status} {Reason}")]
    public static partial void ConfigAnswered(ILogger logger, string serial, int version, string status, string reason);

    [LoggerMessage(6208, LogLevel.Information, "{Serial} answered about {What}, which is no longer current; ignored")]
    public static partial void StaleDeviceReply(ILogger logger, string serial, string what);
    // 61xx ECG reports
    [LoggerMessage(6101, LogLevel.Information, "Uploading report {ReportId} of {Serial} ({SizeBytes} bytes) to {Key}")]
    public static partial void ReportUploading(ILogger logger, string reportId, string serial, long sizeBytes, string key);

    [LoggerMessage(6102, LogLevel.Information, "Report {ReportId} is in S3 at {Key} with a matching checksum")]
    public static partial void ReportUploaded(ILogger logger, string reportId, string key);

    [LoggerMessage(6103, LogLevel.Information, "Report {ReportId} of {Serial} recorded in the cloud ({Key}); removed from the journal")]
    public static partial void ReportRecorded(ILogger logger, string reportId, string serial, string key);

    [LoggerMessage(6104, LogLevel.Warning, "Upload attempt {Attempt} of a report PDF next, from the first byte, in {DelaySeconds:0.0} s: {Reason}")]
    public static partial void ReportUploadRetry(ILogger logger, int attempt, string reason, double delaySeconds);

    [LoggerMessage(6105, LogLevel.Warning, "Sending reports failed ({Reason}); trying again in {DelaySeconds:0.0} s, the reports stay in the journal")]
    public static partial void ReportSendFailed(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(6106, LogLevel.Error, "The cloud refused report {ReportId} of {Serial} for good ({Reason}); kept as a dead letter and removed from the journal")]
    public static partial void ReportRejected(ILogger logger, string reportId, string serial, string reason);

    [LoggerMessage(6107, LogLevel.Warning, "Ignored an invalid answer on uploads/response: {Reason}")]
    public static partial void ReportResponseInvalid(ILogger logger, string reason);

    // 7300-7349: trust in what the cloud sends back (commit acks, upload URLs).
    [LoggerMessage(7300, LogLevel.Warning, "Refused a commit ack for {Lane} {First}-{Last} in epoch {Epoch}: {Reason}; nothing deleted")]
    public static partial void UplinkAckRefused(ILogger logger, string lane, long first, long last, long epoch, string reason);

    [LoggerMessage(7301, LogLevel.Warning, "Refused to upload report {ReportId} to {Url}: {Reason}; nothing was sent, the report stays in the journal")]
    public static partial void ReportUploadUrlRefused(ILogger logger, string reportId, string url, string reason);

    [LoggerMessage(6020, LogLevel.Information, "Uplink certificate renewed: valid until {NotAfter:O} (thumbprint {Thumbprint}); reconnecting with it")]
    public static partial void CertificateRenewed(ILogger logger, DateTime notAfter, string thumbprint);

    [LoggerMessage(6021, LogLevel.Error, "Uplink certificate renewal failed (attempt {Attempt}); retrying in {RetrySeconds} s; the current certificate expires {NotAfter:O}: {Reason}")]
    public static partial void CertificateRenewalFailed(ILogger logger, int attempt, double retrySeconds, DateTimeOffset? notAfter, string reason);

    [LoggerMessage(6022, LogLevel.Information, "Uplink certificate renewal scheduled for {RenewAt:O}")]
    public static partial void CertificateRenewalScheduled(ILogger logger, DateTimeOffset renewAt);

    [LoggerMessage(6023, LogLevel.Warning, "Uplink certificate renewal is off (Agent:CertificateRenewal:ApiUrl); the certificate expires {NotAfter:O} and must be renewed by re-running edgectl gateway register")]
    public static partial void CertificateRenewalOff(ILogger logger, DateTime notAfter);

    // 6300-6349: device presence and the gateway heartbeat.
    [LoggerMessage(6300, LogLevel.Information, "Device {Serial} is {Status} ({Reason}); reported to the cloud")]
    public static partial void DevicePresenceChanged(ILogger logger, string serial, string status, string reason);

    [LoggerMessage(6301, LogLevel.Error, "Could not record that device {Serial} is {Status}: {Reason}")]
    public static partial void DevicePresenceNotRecorded(ILogger logger, string serial, string status, string reason);

    [LoggerMessage(6302, LogLevel.Information, "Presence restored: {Online} device(s) were reported online before the restart; each not back within {DebounceSeconds} s is reported offline")]
    public static partial void DevicePresenceRestored(ILogger logger, int online, int debounceSeconds);

    [LoggerMessage(6310, LogLevel.Warning, "Heartbeat not sent ({Reason}); the next one goes in {IntervalSeconds} s (heartbeats are latest state and never queued)")]
    public static partial void HeartbeatFailed(ILogger logger, string reason, int intervalSeconds);

    [LoggerMessage(6311, LogLevel.Information, "Heartbeat every {IntervalSeconds} s on {Topic}")]
    public static partial void HeartbeatStarted(ILogger logger, int intervalSeconds, string topic);
}
