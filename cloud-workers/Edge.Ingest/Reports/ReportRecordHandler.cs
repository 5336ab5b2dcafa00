using Edge.Contracts.Reports;
using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Storage.Reports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Reports;

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
    RegistryOwnership ownership,
    WorkerMetrics metrics,
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

        // A gateway reports only for its own devices (the same rule as readings): refused for good, counted.
        if ((await ownership.CheckAsync(gatewayId, [request!.Serial], cancellationToken).ConfigureAwait(false))[0] is { } notOwned)
        {
            metrics.NotOwned("report");
            Log.NotOwnedRefused(logger, gatewayId, "report record", request.Serial, notOwned);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request!), $"serial: not a device of gateway {gatewayId} ({notOwned})", retry: false, cancellationToken)
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
