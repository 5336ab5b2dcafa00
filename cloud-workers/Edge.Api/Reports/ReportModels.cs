using System.Text.Json;

namespace Edge.Api.Reports;

/// <summary>One ECG report: its record, where the PDF is, and a presigned link that downloads it until <c>download_expires_at</c>.</summary>
/// <param name="Source"><c>gateway</c> (uploaded by the clinic's agent) or <c>upload</c> (posted to this API).</param>
/// <param name="S3Url">The PDF's location, <c>s3://{bucket}/{clinic}/{serial}/{uuid}.pdf</c>.</param>
/// <param name="Report">The device's report JSON (docs/schemas/v1/ecg-report.schema.json).</param>
/// <param name="DownloadUrl">A presigned GET of the PDF; null in the audit log.</param>
internal sealed record ReportItem(
    string ReportId,
    string Serial,
    string Source,
    string? GatewayId,
    string? UploadedBy,
    string S3Url,
    long SizeBytes,
    string Md5,
    string Sha256,
    DateTimeOffset ReceivedAt,
    DateTimeOffset RecordedAt,
    JsonElement Report,
    string? DownloadUrl,
    DateTimeOffset? DownloadExpiresAt);
