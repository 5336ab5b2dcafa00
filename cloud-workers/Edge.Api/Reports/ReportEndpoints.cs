using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Api.Telemetry;
using Edge.Contracts.Devices;
using Edge.Contracts.Validation;
using Edge.Storage.Reports;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Edge.Api.Reports;

/// <summary>
/// ECG reports of a device: the direct upload (multipart: the report JSON and the PDF, the desktop app's path) and the
/// list with presigned download links. The registry entry of the serial decides who may see and upload (its clinic).
/// Reports reaching the cloud through a gateway are recorded by the ingest workers and listed here the same way.
/// </summary>
internal static class ReportEndpoints
{
    /// <summary>Room for the report JSON and the multipart framing on top of the PDF.</summary>
    private const long FormOverheadBytes = 1024 * 1024;

    private static readonly byte[] PdfMagic = "%PDF-"u8.ToArray();

    public static void MapReportEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Reports");
        app.MapPost("/v1/devices/{serial}/reports", UploadAsync).RequireAuthorization(ApiPolicies.ReportsWrite)
            .WithName("UploadReport")
            .WithSummary("Uploads an ECG report: multipart/form-data with 'report' (the device's report JSON) and 'pdf' (the PDF file).")
            .WithDescription("Idempotent: the same report (id, serial, PDF) again answers 200 with the record. Another report under the same id is 409.")
            // Not .Accepts<IFormCollection>(): a request of another content type would then match no endpoint and meet the
            // deny-all fallback policy (403); the handler answers it with a 400 naming the body instead.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = MultipartBody();
                return Task.CompletedTask;
            })
            .Produces<ReportItem>(StatusCodes.Status201Created).Produces<ReportItem>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/v1/devices/{serial}/reports", ListAsync).RequireAuthorization(ApiPolicies.ReportsRead)
            .WithName("ListReports")
            .WithSummary("A device's ECG reports, newest first, each with a presigned download link.")
            .WithDescription("ECG reports of the device, newest first: the record (source, size, hashes, times, the device's report JSON) and download_url, a presigned GET of the PDF valid until download_expires_at (it needs no token: treat it like the PDF). Non-admins see reports received in their clinics' ownership periods. 503 when the deployment has no report bucket.")
            .Produces<Page<ReportItem>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/v1/devices/{serial}/reports/{reportId}/pdf", DownloadAsync).RequireAuthorization(ApiPolicies.ReportsRead)
            .WithName("DownloadReport")
            .WithSummary("A report's PDF, as an attachment of type application/pdf, only if S3 still holds the recorded bytes.")
            .WithDescription("Content-Disposition: attachment and X-Content-Type-Options: nosniff, so a browser saves the file and never renders it in the API's origin. 502 when the object no longer matches its record (length and MD5).")
            // A type is needed for the document to describe the body at all: a stream is a binary string.
            .Produces<Stream>(StatusCodes.Status200OK, "application/pdf")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> DownloadAsync(
        string serial, string reportId, HttpContext context, Caller caller, RegistryStore registry, ReportStore reports, ReportObjects objects,
        IOptions<ReportOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }
        if (!options.Value.Enabled)
        {
            return Disabled();
        }

        // Another device's report under this serial's route, or one received outside the caller's clinics' ownership
        // periods of the device, is as absent as no report: its existence does not leak.
        var record = Edge.Contracts.Reports.ReportUplink.IsValidReportId(reportId) ? await reports.FindAsync(reportId, cancellationToken) : null;
        if (record is null || record.Serial != device.Serial || (windows is not null && !windows.Any(window => window.Contains(record.ReceivedAt))))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such report.", detail: $"{device.Serial} has no report '{reportId}'.");
        }

        var stored = await objects.OpenAsync(record.Key, cancellationToken);
        if (stored is not { } found || found.Length != record.SizeBytes || found.Md5 != record.Md5)
        {
            if (stored is { } opened)
            {
                await opened.Body.DisposeAsync();
            }
            Log.ReportObjectChanged(loggers.CreateLogger("Edge.Api.Reports"), record.ReportId, record.Bucket, record.Key, stored?.Length ?? 0, stored?.Md5 ?? "none",
                record.SizeBytes, record.Md5);
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The PDF store no longer holds this report's PDF.",
                detail: $"s3://{record.Bucket}/{record.Key} is missing or is not the recorded {record.SizeBytes} bytes with MD5 {record.Md5}.");
        }

        // The type is fixed, never the object's metadata: whatever was stored is offered as a PDF file to save.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentDisposition = ReportObjects.AttachmentDisposition(record.ReportId + ".pdf");
        context.Response.ContentLength = found.Length;
        return TypedResults.Stream(found.Body, Edge.Contracts.Reports.ReportUplink.PdfContentType);
    }

    private static async Task<IResult> UploadAsync(
        string serial, HttpContext context, Caller caller, RegistryStore registry, ReportStore reports, ReportObjects objects, AuditTrail audit,
        IOptions<ReportOptions> options, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (device, problem) = await TelemetryEndpoints.FindDeviceAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }
        if (!options.Value.Enabled)
        {
            return Disabled();
        }

        var errors = new RequestErrors();
        if (TelemetryEndpoints.Kind(device) != DeviceKind.Ecg)
        {
            errors.Add("serial", $"reports are accepted for ECG recorders only; {device.Serial} is a {device.Kind} device");
        }
        if (!context.Request.HasFormContentType)
        {
            errors.Add("body", "must be multipart/form-data with the fields 'report' and 'pdf'");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        // The PDF limit is a setting, so the request body limit is raised per request rather than for the whole server.
        var maxPdf = options.Value.MaxPdfBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxPdf + FormOverheadBytes;
        }
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions { MultipartBodyLengthLimit = maxPdf + FormOverheadBytes }));
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(cancellationToken);
        }
        catch (Exception error) when (error is InvalidDataException or BadHttpRequestException)
        {
            return Problems.BadParameter("body", $"could not be read as multipart/form-data: {error.Message}");
        }

        var parsed = ReadReport(form, SerialNumber.Parse(device.Serial), errors);
        var pdf = form.Files.GetFile("pdf");
        if (pdf is null)
        {
            errors.Add("pdf", "is required: the report's PDF as a file field named 'pdf'");
        }
        else if (pdf.Length == 0)
        {
            errors.Add("pdf", "is empty");
        }
        else if (pdf.Length > maxPdf)
        {
            errors.Add("pdf", $"is {pdf.Length} bytes; the limit is {maxPdf} bytes");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var content = pdf!.OpenReadStream();
        var (isPdf, md5, sha256) = await HashAsync(content, cancellationToken);
        if (!isPdf)
        {
            return Problems.BadParameter("pdf", "does not start with '%PDF-'; this is not a PDF");
        }

        var (reportId, json) = parsed!.Value;
        var existing = await reports.FindAsync(reportId, cancellationToken);
        if (existing is not null)
        {
            // Never overwrite another report's PDF: the id decides the S3 key.
            // The existing report may be another clinic's: its serial is not named.
            return existing.Serial == device.Serial && existing.Sha256 == sha256
                ? TypedResults.Ok(await ToItemAsync(existing, objects))
                : Problems.Conflict(existing.Serial == device.Serial
                    ? "report_id is already recorded for this device with another PDF; a new report needs a new id"
                    : "report_id is already recorded for another device; a new report needs a new id");
        }

        var now = time.GetUtcNow();
        var key = ReportObjects.NewKey(device.ClinicId, device.Serial);
        content.Position = 0;
        var stored = await objects.PutAsync(key, content, cancellationToken);
        if (stored != md5)
        {
            Log.ReportChecksumMismatch(loggers.CreateLogger("Edge.Api.Reports"), reportId, key, md5, stored ?? "none");
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The PDF store failed.",
                detail: $"S3 stored the PDF with MD5 {stored ?? "unknown"}, not {md5}; upload it again.");
        }

        var record = new ReportRecord(reportId, device.Serial, ReportRecord.SourceUpload, null, caller.Subject, objects.Bucket, key,
            pdf.Length, md5, sha256, json, now, now);
        await using var connection = await reports.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (outcome, raced) = await ReportStore.RecordAsync(connection, transaction, record, cancellationToken);
        if (outcome == RecordOutcome.Conflict)
        {
            return Problems.Conflict(raced?.Serial == device.Serial
                ? "report_id was just recorded for this device with another PDF; a new report needs a new id"
                : "report_id was just recorded for another device; a new report needs a new id");
        }
        if (outcome == RecordOutcome.AlreadyRecorded)
        {
            return TypedResults.Ok(await ToItemAsync(raced!, objects));
        }

        var after = ToItem(record, objects, null, null);
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("report.upload", "report", reportId, device.ClinicId, null, AuditTrail.Json(after, ApiJsonContext.Default.ReportItem)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.ReportUploaded(loggers.CreateLogger("Edge.Api.Reports"), reportId, device.Serial, key, pdf.Length);
        return TypedResults.Created($"/v1/devices/{device.Serial}/reports", await ToItemAsync(record, objects));
    }

    private static async Task<IResult> ListAsync(
        string serial, int? limit, string? cursor, Caller caller, RegistryStore registry, ReportStore reports, ReportObjects objects,
        IOptions<ReportOptions> options, CancellationToken cancellationToken)
    {
        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }
        if (!options.Value.Enabled)
        {
            return Disabled();
        }

        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = ParseCursor(PageRequest.After(cursor, errors), errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var rows = await reports.ListAsync(device.Serial, after, take + 1, windows, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.RecordedAt.UtcTicks}|{r.ReportId}"));
        var items = new List<ReportItem>(page.Items.Count);
        foreach (var row in page.Items)
        {
            items.Add(await ToItemAsync(row, objects));
        }
        return TypedResults.Ok(new Page<ReportItem>(items, page.NextCursor));
    }

    private static (string ReportId, string Json)? ReadReport(IFormCollection form, SerialNumber serial, RequestErrors errors)
    {
        var text = form["report"].ToString();
        if (string.IsNullOrEmpty(text))
        {
            errors.Add("report", "is required: the device's report JSON as a form field named 'report'");
            return null;
        }

        var validated = PayloadValidator.ValidateReport(Encoding.UTF8.GetBytes(text), serial);
        foreach (var error in validated.Errors)
        {
            errors.Add(error.Field == FieldError.Document ? "report" : "report." + error.Field, error.Reason);
        }
        return validated.IsValid ? (validated.Value!.Report.ReportId, text) : null;
    }

    private static (DateTimeOffset, string)? ParseCursor(string? key, RequestErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        if (bar > 0 && long.TryParse(key.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks)
        {
            return (new DateTimeOffset(ticks, TimeSpan.Zero), key[(bar + 1)..]);
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }

    private static async Task<(bool IsPdf, string Md5, string Sha256)> HashAsync(Stream content, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        var head = new List<byte>(PdfMagic.Length);
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            head.AddRange(buffer.AsSpan(0, Math.Min(read, PdfMagic.Length - head.Count)));
            md5.AppendData(buffer, 0, read);
            sha256.AppendData(buffer, 0, read);
        }
        return (head.SequenceEqual(PdfMagic), Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha256.GetHashAndReset()));
    }

    private static async Task<ReportItem> ToItemAsync(ReportRecord record, ReportObjects objects)
    {
        var (url, expiresAt) = await objects.PresignDownloadAsync(record.Key, record.ReportId + ".pdf");
        return ToItem(record, objects, url, expiresAt);
    }

    private static ReportItem ToItem(ReportRecord record, ReportObjects objects, string? url, DateTimeOffset? expiresAt)
    {
        using var report = JsonDocument.Parse(record.ReportJson);
        return new ReportItem(record.ReportId, record.Serial, record.Source, record.GatewayId, record.UploadedBy,
            $"s3://{record.Bucket}/{record.Key}", record.SizeBytes, record.Md5, record.Sha256, record.ReceivedAt, record.RecordedAt,
            report.RootElement.Clone(), url, expiresAt);
    }

    private static OpenApiRequestBody MultipartBody() => new()
    {
        Required = true,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "report", "pdf" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["report"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The device's report JSON (docs/schemas/v1/ecg-report.schema.json)." },
                        ["pdf"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The report's PDF, at most Reports:MaxPdfBytes." },
                    },
                },
            },
        },
    };

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Disabled() => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "Reports are not configured.", detail: "Set Reports:Bucket (and the S3 settings) to store and list ECG reports.");
}
