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
/// Answers a gateway's request for a presigned PUT URL (<c>uploads/request</c>) on <c>uploads/response</c>. Gateways
/// hold no S3 credentials: this worker signs one URL for one new key, <c>{clinic}/{serial}/{uuid}.pdf</c>, with the
/// gateway's clinic from the registry and a uuid of its own, fixing the content type, the announced SHA-256 and "never
/// overwrite". A report already recorded with the same content is answered "recorded", so a gateway that lost the
/// confirmation does not upload it again.
/// </summary>
internal sealed class UploadRequestHandler(
    ReportObjects objects,
    ReportStore reports,
    IOptions<ReportOptions> options,
    RegistryOwnership ownership,
    WorkerMetrics metrics,
    ILogger<UploadRequestHandler> logger) : IGatewayMessageHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.UploadRequest;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        var validated = ReportUplink.ReadUploadRequest(payload.Span, options.Value.MaxPdfBytes);
        var request = validated.Value;
        if (await ReportAnswers.RefuseWhenDisabledAsync(options.Value, publisher, gatewayId, request, logger, cancellationToken))
        {
            return;
        }

        if (!validated.IsValid)
        {
            Log.ReportRefused(logger, gatewayId, request?.ReportId ?? "?", validated.ErrorSummary());
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, validated.ErrorSummary(), retry: false, cancellationToken);
            return;
        }

        // A gateway reports only for its own devices (the same rule as readings): refused for good, counted.
        if ((await ownership.CheckAsync(gatewayId, [request!.Serial], cancellationToken))[0] is { } notOwned)
        {
            metrics.NotOwned("upload");
            Log.NotOwnedRefused(logger, gatewayId, "upload request", request.Serial, notOwned);
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, $"serial: not a device of gateway {gatewayId} ({notOwned})", retry: false, cancellationToken)
                ;
            return;
        }

        var existing = await reports.FindAsync(request!.ReportId, cancellationToken);
        if (existing is not null)
        {
            if (existing.Serial == request.Serial && existing.Sha256 == request.Sha256)
            {
                await ReportAnswers.SendAsync(publisher, gatewayId,
                    new ReportUploadResponse(ReportUploadResponse.TypeRecorded, request.Serial, request.ReportId, null, existing.Key, null, null, false),
                    cancellationToken);
                return;
            }

            // The answer goes to the gateway: another clinic's serial is never named in it.
            var reason = $"reportId: '{request.ReportId}' is already recorded for {(existing.Serial == request.Serial ? request.Serial : "another device")} with other content";
            Log.ReportRefused(logger, gatewayId, request.ReportId, reason);
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, reason, retry: false, cancellationToken);
            return;
        }

        // The gateway's clinic names the key; a gateway the registry does not know (or retired) gets no URL, and its
        // report waits in its journal until an operator registers it.
        var clinic = await reports.GatewayClinicAsync(gatewayId, cancellationToken);
        if (clinic is null)
        {
            Log.ReportGatewayUnregistered(logger, gatewayId, request.ReportId);
            await ReportAnswers.RejectAsync(publisher, gatewayId, request, $"gateway: '{gatewayId}' is not an active gateway of a clinic in the registry; the report stays on the gateway",
                retry: true, cancellationToken);
            return;
        }

        var key = ReportObjects.NewKey(clinic, request.Serial);
        var (url, expiresAt) = await objects.PresignUploadAsync(key, request.Sha256);
        await ReportAnswers.SendAsync(publisher, gatewayId,
            new ReportUploadResponse(ReportUploadResponse.TypeUpload, request.Serial, request.ReportId, url, key, expiresAt, null, false),
            cancellationToken);
        Log.UploadUrlIssued(logger, gatewayId, request.Serial, request.ReportId, key, expiresAt);
    }
}
