using System.Globalization;
using Edge.Api.Auth;
using Edge.Contracts.Reports;
using Edge.Storage.Reports;
using Hl7.Fhir.Model;

namespace Edge.Api.Fhir;

internal static partial class FhirEndpoints
{
    private static async Task<IResult> ReadReportAsync(
        string id, HttpContext context, Caller caller, ReportStore reports, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "DiagnosticReport") is { } refused)
        {
            return refused;
        }
        var reportId = ReportIds.FromFhir(id);
        var record = ReportUplink.IsValidReportId(reportId) ? await reports.FindAsync(reportId, cancellationToken) : null;
        // As the REST download: a report received outside the caller's periods of the device is as absent as none.
        var device = record is null ? null : await access.HistoryAsync(record.Serial, caller, cancellationToken);
        if (record is null || device is null || (device.Windows is { } windows && !windows.Any(w => w.Contains(record.ReceivedAt))))
        {
            return FhirResults.NotFound($"No DiagnosticReport/{id}.");
        }
        await access.AuditAsync(caller, "fhir.read", [("DiagnosticReport", id, device.Device.ClinicId, 1)], null, null, cancellationToken);
        return FhirResults.Ok(FhirResources.ReportOf(record, device.PatientAt(record.ReceivedAt), access.PatientSystem, access.ApiBase(context.Request)));
    }

    private static async Task<IResult> SearchReportsAsync(
        HttpContext context, Caller caller, ReportStore reports, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "DiagnosticReport") is { } refused)
        {
            return refused;
        }
        var search = FhirSearch.Parse(context.Request.Query, "device", "patient:identifier", "subject:identifier");
        var (devices, patient) = await DevicesOfSearchAsync(search, caller, access, cancellationToken);
        if (search.Failed)
        {
            return search.ToResult();
        }

        var apiBase = access.ApiBase(context.Request);
        var resources = new List<Resource>();
        var audited = new List<(string, string, string?, int)>();
        string? next = null;
        foreach (var device in devices)
        {
            (DateTimeOffset, string)? after = null;
            if (search.Page is { Position.Length: > 0 } page && page.Serial == device.Device.Serial)
            {
                if (ParseReportPosition(page.Position) is not { } position)
                {
                    return FhirResults.BadParameter("_page", "is not a page token this server returned; follow the Bundle's next link as it is");
                }
                after = position;
            }
            var remaining = search.Count - resources.Count;
            if (remaining == 0)
            {
                next = FhirSearch.EncodePage(device.Device.Serial, "");
                break;
            }
            // Newest first, one more than asked: the extra row only says that another page exists.
            var rows = await reports.ListAsync(device.Device.Serial, after, remaining + 1, device.Windows, cancellationToken);
            var kept = rows.Take(remaining).ToList();
            resources.AddRange(kept.Select(r => FhirResources.ReportOf(r, device.PatientAt(r.ReceivedAt), access.PatientSystem, apiBase)));
            audited.Add(("DiagnosticReport", device.Device.Serial, device.Device.ClinicId, kept.Count));
            if (rows.Count > remaining)
            {
                var last = kept[^1];
                next = FhirSearch.EncodePage(device.Device.Serial, string.Create(CultureInfo.InvariantCulture, $"{last.RecordedAt.UtcTicks}~{last.ReportId}"));
                break;
            }
        }

        await access.AuditAsync(caller, "fhir.search", audited, AuditedSearch(search), patient, cancellationToken);
        return FhirResults.Ok(access.Searchset(context.Request, "DiagnosticReport", search, resources, next));
    }

    private static (DateTimeOffset, string)? ParseReportPosition(string position)
    {
        var tilde = position.IndexOf('~', StringComparison.Ordinal);
        return tilde > 0 && long.TryParse(position[..tilde], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks && ReportUplink.IsValidReportId(position.AsSpan(tilde + 1))
            ? (new DateTimeOffset(ticks, TimeSpan.Zero), position[(tilde + 1)..])
            : null;
    }
}
