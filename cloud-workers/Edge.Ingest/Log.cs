using Microsoft.Extensions.Logging;

namespace Edge.Ingest;

/// <summary>Every log line the ingest worker writes, with stable event ids (7xxx; 56xx ownership and quarantine).</summary>
internal static partial class Log
{
    [LoggerMessage(7001, LogLevel.Information, "Ingest connection {ClientId} connected to {Endpoint}, sharing {Subscription}")]
    public static partial void Connected(ILogger logger, string clientId, string endpoint, string subscription);

    [LoggerMessage(7002, LogLevel.Warning, "Ingest connection {ClientId} lost; reconnecting (unacknowledged batches come back with the session)")]
    public static partial void Disconnected(ILogger logger, string clientId);

    [LoggerMessage(7003, LogLevel.Warning, "Ingest connection {ClientId} cannot connect ({Reason}); next attempt in {DelaySeconds:0.0} s")]
    public static partial void ConnectFailed(ILogger logger, string clientId, double delaySeconds, string reason);

    [LoggerMessage(7004, LogLevel.Error, "Batch from gateway {GatewayId} dead-lettered: {Reason}")]
    public static partial void BatchDeadLettered(ILogger logger, string gatewayId, string reason);

    [LoggerMessage(7005, LogLevel.Warning, "{Count} readings from gateway {GatewayId} failed re-validation (first: {Reason}); recorded as rejected, the rest stored")]
    public static partial void ReadingsRejected(ILogger logger, string gatewayId, int count, string reason);

    [LoggerMessage(7006, LogLevel.Warning, "Storing a batch failed ({Reason}); retrying in {DelaySeconds:0.0} s, the batch stays unacknowledged")]
    public static partial void StoreRetry(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(7007, LogLevel.Debug, "Batch {GatewayId}/{Lane} {First}-{Last}: stored {Stored}, duplicates {Duplicates}, rejected {Rejected}")]
    public static partial void BatchStored(ILogger logger, string gatewayId, string lane, long first, long last, int stored, int duplicates, int rejected);

    [LoggerMessage(7009, LogLevel.Error, "Retention run failed; it runs again in a day")]
    public static partial void RetentionFailed(ILogger logger, Exception error);

    [LoggerMessage(7008, LogLevel.Information, "Store {Store} migrated")]
    public static partial void StoreMigrated(ILogger logger, string store);

    [LoggerMessage(7011, LogLevel.Error, "{Count} readings from gateway {GatewayId} were refused by their store for good (first: {Reason}); recorded as rejected, the rest stored")]
    public static partial void ReadingsRefusedByStore(ILogger logger, string gatewayId, int count, string reason);

    [LoggerMessage(7012, LogLevel.Error, "Storing a batch failed in a way retrying cannot fix ({Reason}); storing its readings one by one")]
    public static partial void StoreFailedForGood(ILogger logger, string reason);

    [LoggerMessage(7013, LogLevel.Error, "A {Topic} message could not be handled ({Reason}); it is dead-lettered and acknowledged")]
    public static partial void MessageDeadLettered(ILogger logger, string topic, string reason);

    // 702x requeues of dead letters and rejected readings an admin asked for (LedgerRequeuer)
    [LoggerMessage(7020, LogLevel.Information, "Requeued {What} {Id} from gateway {GatewayId}: stored; removed from the ledger")]
    public static partial void RequeueStored(ILogger logger, string what, string id, string gatewayId);

    [LoggerMessage(7021, LogLevel.Warning, "Requeued {What} {Id} from gateway {GatewayId} failed again ({Reason}); it stays in the ledger with that reason")]
    public static partial void RequeueFailedAgain(ILogger logger, string what, string id, string gatewayId, string reason);

    [LoggerMessage(7022, LogLevel.Information, "Requeued rejected reading {Id} of {Serial} from gateway {GatewayId} is not that gateway's device ({Reason}); moved to the quarantine")]
    public static partial void RequeueQuarantined(ILogger logger, Guid id, string serial, string gatewayId, string reason);

    [LoggerMessage(7023, LogLevel.Warning, "Requeue pass failed ({Reason}); requested rows stay pending and are tried again in {DelaySeconds:0} s")]
    public static partial void RequeuePassFailed(ILogger logger, string reason, double delaySeconds);

    // 71xx alerts and webhooks
    [LoggerMessage(7010, LogLevel.Warning, "Gateway {GatewayId}: could not notify live viewers or mark the gateway seen; the batch is stored and acknowledged anyway")]
    public static partial void AfterStoreFailed(ILogger logger, string gatewayId, Exception error);

    [LoggerMessage(7101, LogLevel.Debug, "Webhook delivery {DeliveryId} (alert {AlertId}, attempt {Attempt}) delivered to {Endpoint}: HTTP {StatusCode}")]
    public static partial void WebhookDelivered(ILogger logger, long deliveryId, Guid alertId, int attempt, string endpoint, int statusCode);

    [LoggerMessage(7102, LogLevel.Warning, "Webhook delivery {DeliveryId} to {Endpoint} failed on attempt {Attempt} of {MaxAttempts} ({Error}); next attempt at {NextAttemptAt:o}")]
    public static partial void WebhookFailed(ILogger logger, long deliveryId, string endpoint, int attempt, int maxAttempts, string error, DateTimeOffset nextAttemptAt);

    [LoggerMessage(7103, LogLevel.Error, "Webhook delivery {DeliveryId} to {Endpoint} is dead after {Attempts} attempts ({Error}); it is listed with the dead deliveries")]
    public static partial void WebhookDead(ILogger logger, long deliveryId, string endpoint, int attempts, string error);

    [LoggerMessage(7104, LogLevel.Warning, "The webhook queue is unavailable; trying again in {DelaySeconds:0.0} s")]
    public static partial void WebhookQueueFailed(ILogger logger, double delaySeconds, Exception error);

    // 745x alert sweep (maintenance due, silent gateways)
    [LoggerMessage(7450, LogLevel.Warning, "Gateway {GatewayId} is silent: last heard {LastSeenAt:o}; alert raised")]
    public static partial void GatewaySilent(ILogger logger, string gatewayId, DateTimeOffset lastSeenAt);

    [LoggerMessage(7451, LogLevel.Information, "Gateway {GatewayId} heard again; silence alert {AlertId} resolved")]
    public static partial void GatewayHeardAgain(ILogger logger, string gatewayId, Guid alertId);

    [LoggerMessage(7452, LogLevel.Warning, "The alert sweep could not reach the registry; trying again in {DelaySeconds:0} s")]
    public static partial void AlertSweepFailed(ILogger logger, double delaySeconds, Exception exception);

    [LoggerMessage(7201, LogLevel.Warning, "Downlink pass failed ({Reason}); queued configs and firmware offers stay queued")]
    public static partial void DownlinkPassFailed(ILogger logger, string reason);

    [LoggerMessage(7202, LogLevel.Information, "Sent {What} for {Serial} to gateway {GatewayId}")]
    public static partial void DownlinkSent(ILogger logger, string what, string serial, string gatewayId);

    [LoggerMessage(7203, LogLevel.Warning, "Could not send to gateway {GatewayId} for {Serial} ({Reason}); retrying")]
    public static partial void DownlinkSendFailed(ILogger logger, string serial, string gatewayId, string reason);

    [LoggerMessage(7204, LogLevel.Warning, "Refused events from gateway {GatewayId}: {Reason}")]
    public static partial void EventsRefused(ILogger logger, string gatewayId, string reason);

    [LoggerMessage(7205, LogLevel.Warning, "Ignored event {EventId} ({Type}, {Serial}) from gateway {GatewayId}: {Reason}")]
    public static partial void EventIgnored(ILogger logger, string gatewayId, long eventId, string type, string serial, string reason);
    // 715x ECG reports (7101-7104 are the webhooks')
    [LoggerMessage(7150, LogLevel.Information, "Gateway {GatewayId}: upload URL for report {ReportId} of {Serial} issued, key {Key}, valid until {ExpiresAt:o}")]
    public static partial void UploadUrlIssued(ILogger logger, string gatewayId, string serial, string reportId, string key, DateTimeOffset expiresAt);

    [LoggerMessage(7151, LogLevel.Information, "Gateway {GatewayId}: report {ReportId} of {Serial} recorded at {Key} (already recorded before: {AlreadyRecorded})")]
    public static partial void ReportRecorded(ILogger logger, string gatewayId, string serial, string reportId, string key, bool alreadyRecorded);

    [LoggerMessage(7152, LogLevel.Warning, "Gateway {GatewayId}: report {ReportId} refused: {Reason}")]
    public static partial void ReportRefused(ILogger logger, string gatewayId, string reportId, string reason);

    [LoggerMessage(7153, LogLevel.Warning, "Gateway {GatewayId} sent a report, but reports are off (Reports:Bucket is not set); the report waits in the gateway's journal")]
    public static partial void ReportsDisabled(ILogger logger, string gatewayId);

    [LoggerMessage(7154, LogLevel.Warning, "Gateway {GatewayId}: could not check report {ReportId} in S3 ({Reason}); the gateway was told to try again later")]
    public static partial void ReportStoreUnavailable(ILogger logger, string gatewayId, string reportId, string reason);

    // 5700-5749: what a gateway claims about a report PDF, checked against S3 before anything is recorded.
    [LoggerMessage(5700, LogLevel.Warning, "Gateway {GatewayId}: report {ReportId} of {Serial} not recorded ({Problem}): s3://{Bucket}/{Key} holds {Found}")]
    public static partial void ReportObjectRefused(ILogger logger, string gatewayId, string serial, string reportId, string problem, string bucket, string key, string found);

    [LoggerMessage(5701, LogLevel.Warning, "Gateway {GatewayId}: report {ReportId} of {Serial} names key {Key}, which is not one the cloud issues to clinic {ClinicId} for that serial; not recorded")]
    public static partial void ReportKeyRefused(ILogger logger, string gatewayId, string serial, string reportId, string key, string clinicId);

    [LoggerMessage(5702, LogLevel.Warning, "Gateway {GatewayId} asked about report {ReportId}, but it is not an active gateway of a clinic in the registry; the report waits in its journal")]
    public static partial void ReportGatewayUnregistered(ILogger logger, string gatewayId, string reportId);

    // 5710-5719: what the batch path did not expect (fuzzing, docs/fuzzing.md).
    [LoggerMessage(5710, LogLevel.Error, "Batch from gateway {GatewayId} made the decoder fail unexpectedly; dead-lettered as a bad batch")]
    public static partial void BatchDecodeFailed(ILogger logger, string gatewayId, Exception error);

    // 560x ownership and quarantine
    [LoggerMessage(5600, LogLevel.Information, "Ownership: listening for registry changes on channel {Channel}; registry answers are cached")]
    public static partial void OwnershipListening(ILogger logger, string channel);

    [LoggerMessage(5601, LogLevel.Warning, "Ownership: lost the registry notification connection; nothing is cached and every batch asks the registry until it is back (next attempt in {Delay})")]
    public static partial void OwnershipConnectionLost(ILogger logger, TimeSpan delay, Exception error);

    [LoggerMessage(5602, LogLevel.Warning, "{Count} readings from gateway {GatewayId} quarantined, not stored (first: {Serial}, {Reason}); they wait for the registry, admins see them in GET /v1/quarantine")]
    public static partial void ReadingsQuarantined(ILogger logger, string gatewayId, int count, string serial, string reason);

    [LoggerMessage(5603, LogLevel.Information, "Released {Count} quarantined readings into the stores: their devices are now registered to the gateways that sent them")]
    public static partial void QuarantineReleased(ILogger logger, int count);

    [LoggerMessage(5604, LogLevel.Warning, "Releasing quarantined readings failed ({Reason}); tried again on the next registry change or within {RefreshSeconds} s")]
    public static partial void QuarantineReleaseFailed(ILogger logger, string reason, int refreshSeconds);

    [LoggerMessage(5605, LogLevel.Information, "Deleted {Count} quarantined readings held since before {Cutoff:o} and never claimed")]
    public static partial void QuarantineExpired(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(5606, LogLevel.Information, "Gateway {GatewayId} sent {Count} readings in the {Claimed} lane that the worker classifies otherwise (first: {Serial}); the worker's lane is stored and counted")]
    public static partial void LaneMismatch(ILogger logger, string gatewayId, int count, string claimed, string serial);

    [LoggerMessage(5607, LogLevel.Warning, "Gateway {GatewayId}: {What} for {Serial} refused: {Reason}")]
    public static partial void NotOwnedRefused(ILogger logger, string gatewayId, string what, string serial, string reason);

    // 7400-7449: fleet health (gateway heartbeats).
    [LoggerMessage(7400, LogLevel.Warning, "Gateway {GatewayId}: heartbeat refused: {Reason}")]
    public static partial void HeartbeatRefused(ILogger logger, string gatewayId, string reason);

    [LoggerMessage(7401, LogLevel.Debug, "Gateway {GatewayId}: heartbeat of {At:o} recorded ({Outcome})")]
    public static partial void HeartbeatRecorded(ILogger logger, string gatewayId, DateTimeOffset at, string outcome);
}
