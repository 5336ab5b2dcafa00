using Edge.Api.Auth;
using Edge.Api.Registry;
using Hl7.Fhir.Model;
using Device = Edge.Api.Registry.Device;

namespace Edge.Api.Fhir;

/// <summary>
/// The FHIR R4 read API under <c>/fhir/r4/</c>, in the API process: the same tokens, roles, clinic scoping, rate limits,
/// audit log and stores as the REST API. Its contract is its CapabilityStatement (<c>/fhir/r4/metadata</c>), so its
/// endpoints are left out of the REST OpenAPI document.
/// </summary>
internal static partial class FhirEndpoints
{
    public const string Prefix = "/fhir/r4";

    /// <summary>
    /// Whether a request is the FHIR API's: case-insensitively, as routing matches (<c>/FHIR/R4/Observation</c> reaches
    /// the same endpoint, so its refusals are OperationOutcomes too).
    /// </summary>
    public static bool IsFhirPath(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    public static void MapFhirEndpoints(this IEndpointRouteBuilder routes)
    {
        var fhir = routes.MapGroup(Prefix).ExcludeFromDescription();
        // The CapabilityStatement is the public contract, open like the OpenAPI document: clients read it before they
        // have a token, to learn what the server supports.
        fhir.MapGet("/metadata", Metadata).AllowAnonymous();
        fhir.MapGet("/Device/{id}", ReadDeviceAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/Device", SearchDevicesAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/Observation/{id}", ReadObservationAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/Observation", SearchObservationsAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/DiagnosticReport/{id}", ReadReportAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapGet("/DiagnosticReport", SearchReportsAsync).RequireAuthorization(ApiPolicies.FhirRead);
        fhir.MapFhirExportEndpoints();
    }

    private static IResult Metadata(HttpRequest request, FhirAccess access) => FhirResults.Ok(FhirCapabilities.Statement(access.FhirBase(request)));

    private static async Task<IResult> ReadDeviceAsync(string id, HttpContext context, Caller caller, RegistryStore registry, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "Device") is { } refused)
        {
            return refused;
        }
        // As GET /v1/devices/{serial}: the device's current clinic decides.
        var device = await registry.GetDeviceAsync(id, cancellationToken);
        if (device is null || !caller.CanSee(device.ClinicId, device.GatewayId))
        {
            return FhirResults.NotFound($"No Device/{id}.");
        }
        await access.AuditAsync(caller, "fhir.read", [("Device", device.Serial, device.ClinicId, 1)], null, null, cancellationToken);
        return FhirResults.Ok(FhirResources.DeviceOf(device, access.PatientSystem));
    }

    private static async Task<IResult> SearchDevicesAsync(HttpContext context, Caller caller, RegistryStore registry, FhirAccess access, CancellationToken cancellationToken)
    {
        if (FhirAccess.Refuse(context, "Device") is { } refused)
        {
            return refused;
        }
        var search = FhirSearch.Parse(context.Request.Query, "identifier", "patient:identifier", "_id");
        var identifier = search.Token("identifier");
        var id = search.Single("_id");
        var patient = search.Token("patient:identifier");
        if (identifier is { System: not null and not FhirResources.SerialSystem })
        {
            search.Fail("identifier", $"devices are identified by their serial, system {FhirResources.SerialSystem}");
        }
        if (patient is { System: { } system } && system != access.PatientSystem)
        {
            search.Fail("patient:identifier", $"patients are identified in system {access.PatientSystem} here");
        }
        if (search.Failed)
        {
            return search.ToResult();
        }

        var after = search.Page?.Position;
        var devices = new List<Device>();
        string? next = null;
        if (identifier is not null || id is not null)
        {
            var serial = identifier?.Code ?? id!;
            var device = (identifier is null || id is null || identifier.Code == id) && after is null ? await registry.GetDeviceAsync(serial, cancellationToken) : null;
            if (device is not null && caller.CanSee(device.ClinicId, device.GatewayId) && (patient is null || device.Owner == patient.Code))
            {
                devices.Add(device);
            }
        }
        else if (patient is not null)
        {
            var owned = await access.OfPatientAsync(patient.Code, caller, after, inclusive: false, cancellationToken);
            devices.AddRange(owned.Take(search.Count).Select(d => d.Device));
            next = owned.Count > search.Count ? FhirSearch.EncodePage("device", devices[^1].Serial) : null;
        }
        else
        {
            var page = await registry.ListDevicesAsync(caller.ClinicScope, caller.IsGatewayOnly ? caller.GatewayId : null, null, null, null, null, null, after,
                search.Count + 1, cancellationToken);
            devices.AddRange(page.Take(search.Count));
            next = page.Count > search.Count ? FhirSearch.EncodePage("device", devices[^1].Serial) : null;
        }

        var rows = devices.GroupBy(d => d.ClinicId).Select(g => ("Device", "search", (string?)g.Key, g.Count())).ToList();
        await access.AuditAsync(caller, "fhir.search", rows, AuditedSearch(search), patient?.Code, cancellationToken);
        return FhirResults.Ok(access.Searchset(context.Request, "Device", search, [.. devices.Select(d => FhirResources.DeviceOf(d, access.PatientSystem))], next));
    }

    /// <summary>The search as the audit row keeps it: without the patient identifier, which goes into the hidden owner field.</summary>
    private static string AuditedSearch(FhirSearch search) =>
        string.Join('&', search.QueryWithoutPage().Split('&').Where(p => !p.StartsWith("patient", StringComparison.Ordinal)));
}
