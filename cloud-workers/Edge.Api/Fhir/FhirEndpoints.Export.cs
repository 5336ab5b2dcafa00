using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Registry;
using Edge.Storage.Reports;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace Edge.Api.Fhir;

/// <summary>
/// FHIR Bulk Data Access for one clinic: <c>GET /fhir/r4/Group/{clinic}/$export</c> queues a job (202 and its status URL
/// in Content-Location), <c>GET /fhir/r4/$export-status/{id}</c> answers 202 with X-Progress while it runs, then 200 with
/// the manifest: one NDJSON file per resource type in the report bucket, behind presigned links. <c>DELETE</c> on the
/// status URL cancels the job.
/// </summary>
internal static partial class FhirEndpoints
{
    private static readonly string[] ExportTypes = ["Device", "Observation", "DiagnosticReport"];

    private static void MapFhirExportEndpoints(this RouteGroupBuilder fhir)
    {
        fhir.MapGet("/Group/{clinic}/$export", KickOffAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/$export-status/{id:guid}", ExportStatusAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapDelete("/$export-status/{id:guid}", CancelExportAsync).RequireAuthorization(ApiPolicies.FhirRead);
    }

    private static async Task<IResult> KickOffAsync(
        string clinic, HttpContext context, Caller caller, RegistryStore registry, FhirExportJobs jobs, FhirExportRunner runner, FhirAccess access,
        IOptions<ReportOptions> reportOptions, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // The Bulk Data kick-off parameters this server does not support (_typeFilter, _elements, patient,
        // includeAssociatedData) are refused naming them, unless the client prefers lenient handling.
        var search = FhirSearch.ParseOperation(context.Request.Query, FhirSearch.PrefersLenient(context.Request.Headers), "_type", "_outputFormat", "_since");
        var since = search.Instant("_since");
        var types = ExportTypes;
        if (search.Single("_type") is { } typeList)
        {
            types = [.. typeList.Split(',', StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
            if (types.FirstOrDefault(t => !ExportTypes.Contains(t, StringComparer.Ordinal)) is { } unknown)
            {
                search.Fail("_type", $"'{unknown}' is not exported; the types are {string.Join(", ", ExportTypes)}");
            }
        }
        if (search.Single("_outputFormat") is { } format && format is not ("application/fhir+ndjson" or "application/ndjson" or "ndjson"))
        {
            search.Fail("_outputFormat", "only application/fhir+ndjson is written");
        }
        if (search.Failed)
        {
            return search.ToResult();
        }
        foreach (var type in types)
        {
            if (FhirAccess.Refuse(context, type) is { } refused)
            {
                return refused;
            }
        }
        if (!caller.CanSeeClinic(clinic) || await registry.GetClinicAsync(clinic, cancellationToken) is null)
        {
            return FhirResults.NotFound($"No Group/{clinic}.");
        }
        if (!reportOptions.Value.Enabled)
        {
            return FhirResults.Outcome(StatusCodes.Status501NotImplemented, OperationOutcome.IssueType.NotSupported,
                "Bulk export writes its files to the report bucket, and Reports:Bucket is not set on this server.");
        }

        var request = context.Request;
        var job = new ExportJob(Guid.NewGuid(), clinic, caller.Subject, types, $"{access.ApiBase(request)}{request.Path}{request.QueryString}", access.ApiBase(request),
            ExportJob.Queued, time.GetUtcNow(), null, null, [], null, since);
        await jobs.QueueAsync(job, cancellationToken);
        await access.AuditAsync(caller, "fhir.export", [("Group", clinic, clinic, 0)], string.Join(',', types), null, cancellationToken);
        Log.FhirExportQueued(loggers.CreateLogger("Edge.Api.Fhir"), job.Id, clinic, caller.Subject, string.Join(',', types));
        runner.Wake();

        context.Response.Headers.ContentLocation = $"{access.FhirBase(request)}/$export-status/{job.Id:D}";
        return FhirResults.Outcome(StatusCodes.Status202Accepted, OperationOutcome.IssueType.Informational,
            $"Export {job.Id:D} queued; poll the Content-Location.", severity: OperationOutcome.IssueSeverity.Information);
    }

    private static async Task<IResult> ExportStatusAsync(
        Guid id, HttpContext context, Caller caller, FhirExportJobs jobs, ReportObjects objects, FhirAccess access, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(id, cancellationToken);
        if (job is null || job.State == ExportJob.Cancelled || !MayReach(job, caller))
        {
            return FhirResults.NotFound($"No export {id:D}.");
        }
        switch (job.State)
        {
            case ExportJob.Queued or ExportJob.Running:
                context.Response.Headers["X-Progress"] = job.Progress ?? "queued";
                context.Response.Headers.RetryAfter = "2";
                return TypedResults.StatusCode(StatusCodes.Status202Accepted);
            case ExportJob.Failed:
                return FhirResults.Outcome(StatusCodes.Status500InternalServerError, OperationOutcome.IssueType.Exception, job.Error ?? "The export failed.");
        }

        var lifetime = TimeSpan.FromMinutes(access.Options.ExportLinkMinutes);
        var links = new List<(ExportFile File, string Url)>();
        foreach (var file in job.Output)
        {
            links.Add((file, (await objects.PresignGetAsync(file.Key, FhirExportRunner.NdjsonContentType, lifetime)).Url));
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.Expires = (job.FinishedAt ?? job.RequestedAt).Add(lifetime).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writer.WriteStartObject();
            writer.WriteString("transactionTime", job.RequestedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("request", job.RequestUrl);
            // The links are presigned: whoever holds the manifest downloads the files without a token, until they expire.
            writer.WriteBoolean("requiresAccessToken", false);
            writer.WriteStartArray("output");
            foreach (var (file, url) in links)
            {
                writer.WriteStartObject();
                writer.WriteString("type", file.Type);
                writer.WriteString("url", url);
                writer.WriteNumber("count", file.Count);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("error");
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(cancellationToken);
        return TypedResults.Empty;
    }

    /// <summary>
    /// Bulk Data's cancel: 202, the job stops (a queued one never starts, a running one at its next page), its files are
    /// deleted, and the status URL answers 404 from then on.
    /// </summary>
    private static async Task<IResult> CancelExportAsync(
        Guid id, Caller caller, FhirExportJobs jobs, FhirExportRunner runner, FhirAccess access, TimeProvider time, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(id, cancellationToken);
        if (job is null || job.State == ExportJob.Cancelled || !MayReach(job, caller)
            || await jobs.CancelAsync(id, time.GetUtcNow(), cancellationToken) is not { } cancelled)
        {
            return FhirResults.NotFound($"No export {id:D}.");
        }
        await access.AuditAsync(caller, "fhir.export.cancel", [("Group", job.ClinicId, job.ClinicId, 0)], id.ToString("D"), null, cancellationToken);
        Log.FhirExportCancelRequested(loggers.CreateLogger("Edge.Api.Fhir"), id, job.ClinicId, caller.Subject);
        // A completed job's files go now; a running job's runner removes what it wrote when it sees the cancel.
        if (cancelled.State == ExportJob.Completed)
        {
            await runner.DeleteFilesAsync(cancelled.Output.Select(f => f.Key), cancellationToken);
        }
        return FhirResults.Outcome(StatusCodes.Status202Accepted, OperationOutcome.IssueType.Informational,
            $"Export {id:D} cancelled; its files are deleted.", severity: OperationOutcome.IssueSeverity.Information);
    }

    /// <summary>Only who asked for an export (or an admin) reaches it, and only while they still may see the clinic.</summary>
    private static bool MayReach(ExportJob job, Caller caller) =>
        (job.RequestedBy == caller.Subject || caller.IsAdmin) && caller.CanSeeClinic(job.ClinicId);
}
