using System.Text.Json;
using System.Text.Json.Serialization;
using Edge.Contracts.Devices;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Reports;

/// <summary>Reads and checks the report messages gateway and cloud exchange; every refusal names the field.</summary>
public static class ReportUplink
{
    /// <summary>The largest report message (the report JSON is at most 64 KiB, the rest is a few hundred bytes).</summary>
    public const int MaxMessageBytes = 80 * 1024;

    /// <summary>The only content type a report PDF is stored and served with.</summary>
    public const string PdfContentType = "application/pdf";

    /// <summary>What every PDF starts with; anything else is not stored as a report.</summary>
    public static ReadOnlySpan<byte> PdfMagic => "%PDF-"u8;

    /// <summary>
    /// The headers a presigned report PUT is signed with and must carry, besides <c>Content-Type: application/pdf</c>:
    /// the body's SHA-256 (base64, S3's flexible checksum, which S3 checks against the body) and <c>If-None-Match: *</c>
    /// (S3 refuses to overwrite an existing object). The cloud signs exactly these; the gateway sends exactly these.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> PutHeaders(string sha256Hex) =>
    [
        new("x-amz-checksum-sha256", Convert.ToBase64String(Convert.FromHexString(sha256Hex))),
        new("If-None-Match", "*"),
    ];

    public static byte[] Write(ReportUploadRequest request) => JsonSerializer.SerializeToUtf8Bytes(request, ReportJsonContext.Default.ReportUploadRequest);

    public static byte[] Write(ReportRecordRequest request) => JsonSerializer.SerializeToUtf8Bytes(request, ReportJsonContext.Default.ReportRecordRequest);

    public static byte[] Write(ReportUploadResponse response) => JsonSerializer.SerializeToUtf8Bytes(response, ReportJsonContext.Default.ReportUploadResponse);

    /// <summary>Reads an upload request and checks every field; <paramref name="maxPdfBytes"/> is the cloud's size limit.</summary>
    public static Validated<ReportUploadRequest> ReadUploadRequest(ReadOnlySpan<byte> json, long maxPdfBytes)
    {
        var errors = new List<FieldError>();
        var request = Read(json, ReportJsonContext.Default.ReportUploadRequest, errors);
        if (request is not null)
        {
            CheckCommon(request.Serial, request.ReportId, request.ReceivedAt, request.SizeBytes, request.Md5, request.Sha256, maxPdfBytes, errors);
        }

        return new Validated<ReportUploadRequest>(request, errors);
    }

    /// <summary>Reads a record request and checks every field, including the embedded report against its serial.</summary>
    public static Validated<ReportRecordRequest> ReadRecordRequest(ReadOnlySpan<byte> json, long maxPdfBytes)
    {
        var errors = new List<FieldError>();
        var request = Read(json, ReportJsonContext.Default.ReportRecordRequest, errors);
        if (request is null)
        {
            return new Validated<ReportRecordRequest>(null, errors);
        }

        CheckCommon(request.Serial, request.ReportId, request.ReceivedAt, request.SizeBytes, request.Md5, request.Sha256, maxPdfBytes, errors);
        if (request.Key is { Length: > 512 })
        {
            errors.Add(new FieldError("key", $"must be at most 512 characters (was {request.Key.Length})"));
        }

        if (errors.Count == 0)
        {
            var report = PayloadValidator.ValidateReport(System.Text.Encoding.UTF8.GetBytes(request.Report.GetRawText()), SerialNumber.Parse(request.Serial));
            foreach (var error in report.Errors)
            {
                errors.Add(new FieldError(error.Field == FieldError.Document ? "report" : "report." + error.Field, error.Reason));
            }

            if (report.IsValid && report.Value!.Report.ReportId != request.ReportId)
            {
                errors.Add(new FieldError("report.report.report_id", $"must equal reportId '{request.ReportId}' (was '{report.Value.Report.ReportId}')"));
            }
        }

        return new Validated<ReportRecordRequest>(request, errors);
    }

    /// <summary>Reads a cloud answer; null with errors when it is not one.</summary>
    public static Validated<ReportUploadResponse> ReadResponse(ReadOnlySpan<byte> json)
    {
        var errors = new List<FieldError>();
        var response = Read(json, ReportJsonContext.Default.ReportUploadResponse, errors);
        if (response is not null)
        {
            if (response.Type is not (ReportUploadResponse.TypeUpload or ReportUploadResponse.TypeRecorded or ReportUploadResponse.TypeRejected))
            {
                errors.Add(new FieldError("type", $"must be upload, recorded or rejected (was '{response.Type}')"));
            }

            if (response.Type == ReportUploadResponse.TypeUpload && !Uri.TryCreate(response.Url, UriKind.Absolute, out _))
            {
                errors.Add(new FieldError("url", "an upload answer needs an absolute URL"));
            }
        }

        return new Validated<ReportUploadResponse>(response, errors);
    }

    /// <summary>True for <c>^[A-Za-z0-9_-]{1,64}$</c>: a report id becomes part of an S3 key and a topic.</summary>
    public static bool IsValidReportId(ReadOnlySpan<char> reportId)
    {
        if (reportId.IsEmpty || reportId.Length > 64)
        {
            return false;
        }

        foreach (var c in reportId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lower-case hex of exactly <paramref name="digits"/> digits.</summary>
    public static bool IsHex(string? value, int digits) =>
        value is not null && value.Length == digits && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static void CheckCommon(
        string serial, string reportId, DateTimeOffset receivedAt, long sizeBytes, string md5, string sha256, long maxPdfBytes, List<FieldError> errors)
    {
        if (!SerialNumber.TryParse(serial, out var parsed, out var reason))
        {
            errors.Add(new FieldError("serial", reason));
        }
        else if (parsed.Kind != DeviceKind.Ecg)
        {
            errors.Add(new FieldError("serial", $"reports come from ECG recorders only; '{serial}' is not one"));
        }

        if (!IsValidReportId(reportId))
        {
            errors.Add(new FieldError("reportId", "must be 1-64 letters, digits, '-' or '_'"));
        }

        if (receivedAt.UtcDateTime.Year is < 2000 or > 2199)
        {
            errors.Add(new FieldError("receivedAt", $"must be in the years 2000-2199 (was {receivedAt:o})"));
        }

        if (sizeBytes < 1 || sizeBytes > maxPdfBytes)
        {
            errors.Add(new FieldError("sizeBytes", $"must be between 1 and {maxPdfBytes} (was {sizeBytes})"));
        }

        if (!IsHex(md5, 32))
        {
            errors.Add(new FieldError("md5", "must be 32 lower-case hex digits"));
        }

        if (!IsHex(sha256, 64))
        {
            errors.Add(new FieldError("sha256", "must be 64 lower-case hex digits"));
        }
    }

    private static T? Read<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, List<FieldError> errors)
        where T : class
    {
        if (json.Length > MaxMessageBytes)
        {
            errors.Add(new FieldError(FieldError.Document, $"message is {json.Length} bytes; the limit is {MaxMessageBytes} bytes"));
            return null;
        }

        // The reader checks UTF-8 only in the values it converts to text; an embedded document (a record's report) is
        // kept as raw bytes and would throw when read later.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            errors.Add(new FieldError(FieldError.Document, "message is not valid UTF-8"));
            return null;
        }

        try
        {
            var value = JsonSerializer.Deserialize(json, type);
            if (value is null)
            {
                errors.Add(new FieldError(FieldError.Document, "expected a JSON object (was null)"));
            }

            return value;
        }
        catch (JsonException ex)
        {
            // The reader's path ($.sizeBytes) names the field; without one the document as a whole is wrong.
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? FieldError.Document : ex.Path.TrimStart('$', '.');
            errors.Add(new FieldError(field, ex.Message));
            return null;
        }
    }
}

/// <summary>Source-generated JSON for the report messages: camelCase like the other uplink control messages, strict when reading.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ReportUploadRequest))]
[JsonSerializable(typeof(ReportRecordRequest))]
[JsonSerializable(typeof(ReportUploadResponse))]
public sealed partial class ReportJsonContext : JsonSerializerContext;
