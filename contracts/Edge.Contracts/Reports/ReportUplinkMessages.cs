using System.Text.Json;

namespace Edge.Contracts.Reports;

/// <summary>
/// The gateway asks for a presigned PUT URL for one report PDF (<c>edge/v1/{gatewayId}/uploads/request</c>). The cloud
/// chooses the S3 key, <c>{clinic}/{serial}/{uuid}.pdf</c>, a fresh one per request, so a gateway can neither choose
/// nor reuse one; the URL it signs fixes the content type and this SHA-256 (see <see cref="ReportUplink.PutHeaders"/>).
/// </summary>
/// <param name="Serial">The ECG recorder that published the report.</param>
/// <param name="ReportId">The report's id (<c>^[A-Za-z0-9_-]{1,64}$</c>).</param>
/// <param name="ReceivedAt">When the gateway first journaled the report.</param>
/// <param name="SizeBytes">The PDF's length.</param>
/// <param name="Md5">The PDF's MD5, 32 lower-case hex digits: what S3 returns as the ETag of a single PUT.</param>
/// <param name="Sha256">The PDF's SHA-256, 64 lower-case hex digits: signed into the upload URL and kept with the record.</param>
public sealed record ReportUploadRequest(string Serial, string ReportId, DateTimeOffset ReceivedAt, long SizeBytes, string Md5, string Sha256);

/// <summary>
/// Everything the cloud records about an uploaded report (<c>edge/v1/{gatewayId}/reports</c>), sent only after the PDF
/// is in S3 and its checksum matched.
/// </summary>
/// <param name="Serial">The ECG recorder that published the report.</param>
/// <param name="ReportId">The report's id.</param>
/// <param name="ReceivedAt">The same time as in the upload request.</param>
/// <param name="SizeBytes">The PDF's length.</param>
/// <param name="Md5">The PDF's MD5 (lower-case hex), compared with the S3 object's.</param>
/// <param name="Sha256">The PDF's SHA-256 (lower-case hex), compared with the S3 object's.</param>
/// <param name="Report">The device's report JSON as it published it.</param>
/// <param name="Key">
/// The key of the upload answer the PDF was PUT to. Null only from agents older than cloud-chosen keys: the cloud then
/// answers "rejected, retry" and the report waits on the gateway until its agent is upgraded.
/// </param>
public sealed record ReportRecordRequest(string Serial, string ReportId, DateTimeOffset ReceivedAt, long SizeBytes, string Md5, string Sha256, JsonElement Report, string? Key = null);

/// <summary>
/// The cloud's answers on <c>edge/v1/{gatewayId}/uploads/response</c>, told apart by <see cref="Type"/>:
/// <see cref="TypeUpload"/> (a presigned URL), <see cref="TypeRecorded"/> (the report is recorded: forget it) or
/// <see cref="TypeRejected"/> (with a reason; <see cref="Retry"/> says whether uploading again can help).
/// </summary>
public sealed record ReportUploadResponse(
    string Type,
    string Serial,
    string ReportId,
    string? Url,
    string? Key,
    DateTimeOffset? ExpiresAt,
    string? Reason,
    bool Retry)
{
    public const string TypeUpload = "upload";
    public const string TypeRecorded = "recorded";
    public const string TypeRejected = "rejected";
}
