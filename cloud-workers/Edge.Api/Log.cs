namespace Edge.Api;

/// <summary>Every log line the API writes, with stable event ids a technician can search for (8xxx).</summary>
internal static partial class Log
{
    [LoggerMessage(8001, LogLevel.Error, "Request {Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception error);

    [LoggerMessage(8002, LogLevel.Information, "Live stream: listening for stored readings on channel {Channel}")]
    public static partial void LiveListening(ILogger logger, string channel);

    [LoggerMessage(8003, LogLevel.Warning, "Live stream: lost the notification connection; reconnecting in {Delay}")]
    public static partial void LiveConnectionLost(ILogger logger, TimeSpan delay, Exception error);

    [LoggerMessage(8004, LogLevel.Warning, "Live stream of {Serial}: the store failed; closing the viewer's socket")]
    public static partial void LiveStreamFailed(ILogger logger, string serial, Exception error);

    [LoggerMessage(8005, LogLevel.Warning, "Live alert stream of {Subject}: the registry failed; closing the viewer's socket")]
    public static partial void LiveAlertStreamFailed(ILogger logger, string subject, Exception error);

    [LoggerMessage(8300, LogLevel.Information, "Gateway CA: issued certificate {Fingerprint} to gateway {GatewayId}, valid until {NotAfter}, requested by {Actor}")]
    public static partial void GatewayCertificateIssued(ILogger logger, string gatewayId, string fingerprint, DateTimeOffset notAfter, string actor);

    [LoggerMessage(8301, LogLevel.Information, "Gateway CA: signing gateway certificates with {Subject}, valid for {ValidityDays} days")]
    public static partial void GatewayCaLoaded(ILogger logger, string subject, int validityDays);
    // 843x-846x object-level authorization
    [LoggerMessage(8430, LogLevel.Information, "Live stream of {Serial} for {Subject} closed with a policy violation: {Reason}")]
    public static partial void LiveAccessEnded(ILogger logger, string serial, string subject, string reason);

    [LoggerMessage(8431, LogLevel.Information, "Live alert stream of {Subject} closed with a policy violation: {Reason}")]
    public static partial void LiveAlertAccessEnded(ILogger logger, string subject, string reason);

    // 81xx ECG reports
    [LoggerMessage(8101, LogLevel.Information, "Report {ReportId} of {Serial} uploaded directly: {Key}, {SizeBytes} bytes")]
    public static partial void ReportUploaded(ILogger logger, string reportId, string serial, string key, long sizeBytes);

    [LoggerMessage(8102, LogLevel.Error, "Report {ReportId}: S3 stored {Key} with MD5 {Stored}, not {Expected}; not recorded")]
    public static partial void ReportChecksumMismatch(ILogger logger, string reportId, string key, string expected, string stored);

    // 8500-8529: report downloads.
    [LoggerMessage(8500, LogLevel.Error, "Report {ReportId}: s3://{Bucket}/{Key} holds {Length} bytes with MD5 {Stored}, not the recorded {Expected} bytes with MD5 {Recorded} (overwritten?); not served")]
    public static partial void ReportObjectChanged(ILogger logger, string reportId, string bucket, string key, long length, string stored, long expected, string recorded);

    // 8470-8499 rate limits
    [LoggerMessage(8470, LogLevel.Information, "Rate limits: counting in Redis at {Endpoints}, shared by every API replica")]
    public static partial void RateLimitRedisConnected(ILogger logger, string endpoints);

    [LoggerMessage(8471, LogLevel.Warning, "Rate limits: Redis at {Endpoints} is unreachable at start; this replica counts alone until it answers")]
    public static partial void RateLimitRedisUnreachableAtStart(ILogger logger, string endpoints);

    [LoggerMessage(8472, LogLevel.Warning, "Rate limits: Redis stopped answering; this replica counts alone until it is back (limits are per replica meanwhile)")]
    public static partial void RateLimitRedisFailing(ILogger logger, Exception error);

    [LoggerMessage(8473, LogLevel.Information, "Rate limits: Redis answers again; counts are shared by every replica")]
    public static partial void RateLimitRedisRecovered(ILogger logger);

    [LoggerMessage(8480, LogLevel.Information, "Requeue of {What} {Id} requested by {Subject}; a worker tries it within seconds")]
    public static partial void RequeueRequested(ILogger logger, string what, string id, string subject);

    [LoggerMessage(8490, LogLevel.Information, "Gateway {GatewayId} renewed its certificate: {Fingerprint}, valid until {NotAfter:O}")]
    public static partial void GatewayCertificateRenewed(ILogger logger, string gatewayId, string fingerprint, DateTimeOffset notAfter);

    [LoggerMessage(8491, LogLevel.Warning, "Certificate renewal for gateway {GatewayId} refused: {Reason}")]
    public static partial void GatewayCertificateRenewalRefused(ILogger logger, string gatewayId, string reason);
}
