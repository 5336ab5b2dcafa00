using Edge.Contracts.Reports;
using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Storage.Reports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Reports;

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
            ;
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
