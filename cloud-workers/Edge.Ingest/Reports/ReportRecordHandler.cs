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
/// Records a report whose PDF a gateway has uploaded (<c>reports</c>). The key it names must be one the cloud issues
/// to its clinic for that serial, and the object under it must be the announced PDF (read in full: at most
/// Reports:MaxPdfBytes, the announced length, <c>%PDF-</c>, the announced SHA-256 and MD5) before a row is written;
/// then the gateway is told "recorded" and deletes its copy. A missing object, another length or checksum (bytes changed
/// on the way), or S3 not answering, is answered "rejected, retry" so the gateway uploads again; an object that is not a
/// PDF or a foreign key is refused for good. Refusals are logged and counted (edge_worker_reports_refused_total). A
/// PostgreSQL outage throws, and the message stays unacknowledged and is retried like a telemetry batch.
/// </summary>
internal sealed class ReportRecordHandler(
    ReportObjects objects,
    ReportStore reports,
    WorkerMetrics metrics,
    IOptions<ReportOptions> options,
    RegistryOwnership ownership,
    TimeProvider time,
    ILogger<ReportRecordHandler> logger) : IGatewayMessageHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.Reports;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        var validated = ReportUplink.ReadRecordRequest(payload.Span, options.Value.MaxPdfBytes);
        var request = validated.Value;
        if (await ReportAnswers.RefuseWhenDisabledAsync(options.Value, publisher, gatewayId, request is null ? null : Addressed(request), logger, cancellationToken)
            )
        {
            return;
        }

        if (!validated.IsValid)
        {
            Log.ReportRefused(logger, gatewayId, request?.ReportId ?? "?", validated.ErrorSummary());
            await ReportAnswers.RejectAsync(publisher, gatewayId, request is null ? null : Addressed(request), validated.ErrorSummary(), retry: false, cancellationToken)
                ;
            return;
        }

        // A gateway reports only for its own devices (the same rule as readings): refused for good, counted.
        if ((await ownership.CheckAsync(gatewayId, [request!.Serial], cancellationToken))[0] is { } notOwned)
        {
            metrics.NotOwned("report");
            Log.NotOwnedRefused(logger, gatewayId, "report record", request.Serial, notOwned);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), $"serial: not a device of gateway {gatewayId} ({notOwned})", retry: false, cancellationToken)
                ;
            return;
        }

        if (request.Key is not { } key)
        {
            // An agent from before cloud-chosen keys: it keeps the report until it is upgraded.
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), "key: required (the key of the upload answer); upgrade the gateway's agent",
                retry: true, cancellationToken);
            return;
        }

        var clinic = await reports.GatewayClinicAsync(gatewayId, cancellationToken);
        if (clinic is null)
        {
            Log.ReportGatewayUnregistered(logger, gatewayId, request.ReportId);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), $"gateway: '{gatewayId}' is not an active gateway of a clinic in the registry; the report stays on the gateway",
                retry: true, cancellationToken);
            return;
        }

        if (!ReportObjects.IsKeyFor(key, clinic, request.Serial))
        {
            Log.ReportKeyRefused(logger, gatewayId, request.Serial, request.ReportId, key, clinic);
            metrics.ReportRefused("key");
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), $"key: '{key}' is not a key the cloud issued for {request.Serial} in this gateway's clinic",
                retry: false, cancellationToken);
            return;
        }

        ObjectCheck check;
        try
        {
            check = await objects.VerifyAsync(key, request.SizeBytes, options.Value.MaxPdfBytes, request.Md5, request.Sha256, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not thrown to the worker's retry loop: that would hold this connection, and the telemetry behind it, for
            // the whole S3 outage. The gateway keeps the report and tries again with its own backoff.
            Log.ReportStoreUnavailable(logger, gatewayId, request.ReportId, ex.Message);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), $"pdf: S3 could not be checked ({ex.Message}); try again later", retry: true, cancellationToken)
                ;
            return;
        }

        if (check.Problem != ObjectProblem.None)
        {
            var (label, field, retry) = check.Problem switch
            {
                // The gateway validated %PDF- before it journaled the report: a non-PDF here was not sent by its agent.
                ObjectProblem.NotPdf => ("not_pdf", "pdf", false),
                ObjectProblem.Checksum => ("checksum", "sha256", true),
                ObjectProblem.Size => ("size", "sizeBytes", true),
                _ => ("missing", "pdf", true),
            };
            Log.ReportObjectRefused(logger, gatewayId, request.Serial, request.ReportId, label, objects.Bucket, key, check.Detail);
            metrics.ReportRefused(label);
            var reason = check.Problem == ObjectProblem.NotPdf
                ? $"{field}: s3://{objects.Bucket}/{key} holds {check.Detail}; a report must start with %PDF-"
                : $"{field}: s3://{objects.Bucket}/{key} holds {check.Detail}; upload it again";
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), reason, retry, cancellationToken);
            return;
        }

        var record = new ReportRecord(request.ReportId, request.Serial, ReportRecord.SourceGateway, gatewayId, null, objects.Bucket, key,
            request.SizeBytes, request.Md5, request.Sha256, request.Report.GetRawText(), request.ReceivedAt, time.GetUtcNow());
        var (outcome, existing) = await reports.RecordAsync(record, cancellationToken);
        if (outcome == RecordOutcome.Conflict)
        {
            // The answer goes to the gateway: another clinic's serial is never named in it.
            var reason = $"reportId: '{request.ReportId}' is already recorded for {(existing?.Serial == request.Serial ? request.Serial : "another device")} with other content";
            Log.ReportRefused(logger, gatewayId, request.ReportId, reason);
            await ReportAnswers.RejectAsync(publisher, gatewayId, Addressed(request), reason, retry: false, cancellationToken);
            return;
        }

        await ReportAnswers.SendAsync(publisher, gatewayId,
            new ReportUploadResponse(ReportUploadResponse.TypeRecorded, request.Serial, request.ReportId, null, key, null, null, false),
            cancellationToken);
        Log.ReportRecorded(logger, gatewayId, request.Serial, request.ReportId, key, outcome == RecordOutcome.AlreadyRecorded);
    }

    private static ReportUploadRequest Addressed(ReportRecordRequest r) => new(r.Serial, r.ReportId, r.ReceivedAt, r.SizeBytes, r.Md5, r.Sha256);
}
