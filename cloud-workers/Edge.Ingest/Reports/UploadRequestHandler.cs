using Edge.Contracts.Reports;
using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Storage.Reports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Reports;

/// <summary>
/// Answers a gateway's request for a presigned PUT URL (<c>uploads/request</c>) on <c>uploads/response</c>. Gateways
/// hold no S3 credentials: this worker signs one URL for one key, which the cloud derives from the report id and the
/// date the gateway received it. A report already recorded with the same content is answered "recorded", so a gateway
/// that lost the confirmation does not upload it again.
/// </summary>
internal sealed class UploadRequestHandler(
    ReportObjects objects,
    ReportStore reports,
    IOptions<ReportOptions> options,
    ILogger<UploadRequestHandler> logger) : IGatewayMessageHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.UploadRequest;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        var validated = ReportUplink.ReadUploadRequest(payload.Span, options.Value.MaxPdfBytes);
        var request = validated.Value;
        if (await ReportAnswers.RefuseWhenDisabledAsync(options.Value, publisher, gatewayId, request, logger, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (!validated.IsValid)
        {
            Log.ReportRefused(logger, gatewayId, request?.ReportId ?? "?", validated.ErrorSummary());
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, validated.ErrorSummary(), retry: false, cancellationToken).ConfigureAwait(false);
            return;
        }

        var existing = await reports.FindAsync(request!.ReportId, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            if (existing.Serial == request.Serial && existing.Sha256 == request.Sha256)
            {
                await ReportAnswers.SendAsync(publisher, gatewayId,
                    new ReportUploadResponse(ReportUploadResponse.TypeRecorded, request.Serial, request.ReportId, null, existing.Key, null, null, false),
                    cancellationToken).ConfigureAwait(false);
                return;
            }

            var reason = $"reportId: '{request.ReportId}' is already recorded for {existing.Serial} with other content";
            Log.ReportRefused(logger, gatewayId, request.ReportId, reason);
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, reason, retry: false, cancellationToken).ConfigureAwait(false);
            return;
        }

        var key = ReportObjects.KeyFor(request.ReceivedAt, request.ReportId);
        var (url, expiresAt) = await objects.PresignUploadAsync(key).ConfigureAwait(false);
        await ReportAnswers.SendAsync(publisher, gatewayId,
            new ReportUploadResponse(ReportUploadResponse.TypeUpload, request.Serial, request.ReportId, url, key, expiresAt, null, false),
            cancellationToken).ConfigureAwait(false);
        Log.UploadUrlIssued(logger, gatewayId, request.Serial, request.ReportId, key, expiresAt);
    }
}

/// <summary>
/// Records a report whose PDF a gateway has uploaded (<c>reports</c>): the object must be in S3 with the announced
/// length and MD5 before a row is written, then the gateway is told "recorded" and deletes its copy. A missing or
/// different object, or S3 not answering, is answered "rejected, retry" so the gateway uploads again later; a PostgreSQL
/// outage throws, and the message stays unacknowledged and is retried like a telemetry batch.
/// </summary>
internal sealed class ReportRecordHandler(
    ReportObjects objects,
    ReportStore reports,
    IOptions<ReportOptions> options,
    TimeProvider time,
    ILogger<ReportRecordHandler> logger) : IGatewayMessageHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.Reports;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        var validated = ReportUplink.ReadRecordRequest(payload.Span, options.Value.MaxPdfBytes);
        var request = validated.Value;
        if (await ReportAnswers.RefuseWhenDisabledAsync(options.Value, publisher, gatewayId, request is null ? null : Addressed(request), logger, cancellationToken)
            .ConfigureAwait(false))
        {
            return;
        }

        if (!validated.IsValid)
        {
            Log.ReportRefused(logger, gatewayId, request?.ReportId ?? "?", validated.ErrorSummary());
            await ReportAnswers.RejectAsync(publisher, gatewayId, request is null ? null : Addressed(request), validated.ErrorSummary(), retry: false, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        var key = ReportObjects.KeyFor(request!.ReceivedAt, request.ReportId);
        StoredObject? stored;
        try
        {
            stored = await objects.HeadAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not thrown to the worker's retry loop: that would hold this connection, and the telemetry behind it, for
            // the whole S3 outage. The gateway keeps the report and tries again with its own backoff.
            Log.ReportStoreUnavailable(logger, gatewayId, request.ReportId, ex.Message);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), $"pdf: S3 could not be checked ({ex.Message}); try again later", retry: true, cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        if (stored is null || stored.SizeBytes != request.SizeBytes || stored.Md5 != request.Md5)
        {
            var found = stored is null ? "no object" : $"{stored.SizeBytes} bytes, MD5 {stored.Md5 ?? "unknown"}";
            var reason = $"pdf: s3://{objects.Bucket}/{key} holds {found}, not {request.SizeBytes} bytes with MD5 {request.Md5}; upload it again";
            Log.ReportRefused(logger, gatewayId, request.ReportId, reason);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), reason, retry: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var record = new ReportRecord(request.ReportId, request.Serial, ReportRecord.SourceGateway, gatewayId, null, objects.Bucket, key,
            request.SizeBytes, request.Md5, request.Sha256, request.Report.GetRawText(), request.ReceivedAt, time.GetUtcNow());
        var (outcome, existing) = await reports.RecordAsync(record, cancellationToken).ConfigureAwait(false);
        if (outcome == RecordOutcome.Conflict)
        {
            var reason = $"reportId: '{request.ReportId}' is already recorded for {existing?.Serial ?? "another device"} with other content";
            Log.ReportRefused(logger, gatewayId, request.ReportId, reason);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), reason, retry: false, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ReportAnswers.SendAsync(publisher, gatewayId,
            new ReportUploadResponse(ReportUploadResponse.TypeRecorded, request.Serial, request.ReportId, null, key, null, null, false),
            cancellationToken).ConfigureAwait(false);
        Log.ReportRecorded(logger, gatewayId, request.Serial, request.ReportId, key, outcome == RecordOutcome.AlreadyRecorded);
    }

    private static ReportUploadRequest Addressed(ReportRecordRequest r) => new(r.Serial, r.ReportId, r.ReceivedAt, r.SizeBytes, r.Md5, r.Sha256);
}

/// <summary>Publishes answers on the gateway's <c>uploads/response</c> topic.</summary>
internal static class ReportAnswers
{
    public static Task SendAsync(ICloudPublisher publisher, string gatewayId, ReportUploadResponse response, CancellationToken cancellationToken) =>
        publisher.PublishAsync(UplinkTopics.UploadResponse(gatewayId), ReportUplink.Write(response), cancellationToken);

    /// <summary>Without a bucket nothing can be stored: the gateway keeps the report and asks again later.</summary>
    public static async Task<bool> RefuseWhenDisabledAsync(
        ReportOptions options, ICloudPublisher publisher, string gatewayId, ReportUploadRequest? request, ILogger logger, CancellationToken cancellationToken)
    {
        if (options.Enabled)
        {
            return false;
        }

        Log.ReportsDisabled(logger, gatewayId);
        await RejectAsync(publisher, gatewayId, request, "reports are not configured in the cloud (Reports:Bucket); the gateway keeps the report", retry: true, cancellationToken)
            .ConfigureAwait(false);
        return true;
    }

    /// <summary>Tells the gateway why; a message without a usable serial and report id cannot be addressed and is only logged.</summary>
    public static Task RejectAsync(ICloudPublisher publisher, string gatewayId, ReportUploadRequest? request, string reason, bool retry, CancellationToken cancellationToken)
    {
        if (request is null || request.Serial is null || request.ReportId is null || !ReportUplink.IsValidReportId(request.ReportId))
        {
            return Task.CompletedTask;
        }

        var text = reason.Length <= 1024 ? reason : reason[..1024];
        return SendAsync(publisher, gatewayId,
            new ReportUploadResponse(ReportUploadResponse.TypeRejected, request.Serial, request.ReportId, null, null, null, text, retry), cancellationToken);
    }
}
