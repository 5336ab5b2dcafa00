using System.Text.Json.Nodes;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Registry;
using Edge.Api.Telemetry;
using Edge.Storage.Queries;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;
using Npgsql;
using RegistryDevice = Edge.Api.Registry.Device;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Fhir;

/// <summary>A device a caller may read through FHIR, the windows of its history they may read, and whose patient it is now.</summary>
/// <param name="Windows">Received-time windows the caller may read (null: all, an admin).</param>
/// <param name="PatientSince">Start of the device's current ownership period when it has an owner: readings received since then are that patient's.</param>
internal sealed record FhirDevice(RegistryDevice Device, IReadOnlyList<ReceivedWindow>? Windows, DateTimeOffset? PatientSince)
{
    /// <summary>The patient identifier of a reading received at <paramref name="receivedAt"/>, or null.</summary>
    public string? PatientAt(DateTimeOffset receivedAt) => PatientSince is { } since && receivedAt >= since ? Device.Owner : null;
}

/// <summary>
/// What every FHIR handler needs: the caller's scopes, the device lookups with the REST API's clinic scoping and
/// ownership windows, the public base URL, and the audit rows of reads.
/// </summary>
internal sealed class FhirAccess(RegistryStore registry, AuditTrail audit, IOptions<FhirOptions> options, TimeProvider time)
{
    public FhirOptions Options => options.Value;

    public string PatientSystem => options.Value.PatientIdentifierSystem;

    /// <summary>The API's public base (no trailing slash): the setting, or the request's scheme and host.</summary>
    public string ApiBase(HttpRequest request) => (options.Value.BaseUrl ?? $"{request.Scheme}://{request.Host}").TrimEnd('/');

    public string FhirBase(HttpRequest request) => ApiBase(request) + FhirEndpoints.Prefix;

    /// <summary>403 OperationOutcome unless the token's scopes allow reading <paramref name="resourceType"/>.</summary>
    public static IResult? Refuse(HttpContext context, string resourceType) =>
        FhirScopes.AllowsRead(context.User, resourceType)
            ? null
            : FhirResults.Forbidden($"The token's scopes do not allow reading {resourceType}: it needs system/{resourceType}.read or system/*.read in its scope claim.");

    /// <summary>
    /// A device whose history the caller may read (as <c>GET /v1/devices/{serial}/telemetry</c> decides), or null: a
    /// serial that is not registered, or never in the caller's clinics, is absent.
    /// </summary>
    public async Task<FhirDevice?> HistoryAsync(string serial, Caller caller, CancellationToken cancellationToken)
    {
        var (device, windows, _) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        return device is null ? null : new FhirDevice(device, windows, await PatientSinceAsync(device, cancellationToken));
    }

    /// <summary>
    /// The devices a patient holds now in the caller's clinics, by serial from <paramref name="fromSerial"/> (itself included when <paramref name="inclusive"/>); each read only
    /// in its current ownership period (what was recorded before belongs to no known patient).
    /// </summary>
    public async Task<List<FhirDevice>> OfPatientAsync(string owner, Caller caller, string? fromSerial, bool inclusive, CancellationToken cancellationToken)
    {
        var devices = new List<FhirDevice>();
        if (!caller.IsAdmin && caller.ClinicScope is not { Count: > 0 })
        {
            return devices;
        }
        await using var command = registry.DataSource.CreateCommand("""
            SELECT serial FROM devices
            WHERE owner = $1 AND status = 'active' AND ($2::text[] IS NULL OR clinic_id = ANY($2)) AND ($3::text IS NULL OR serial > $3 OR (serial = $3 AND $4))
            ORDER BY serial
            """);
        command.Parameters.Add(RegistryStore.Text(owner));
        command.Parameters.Add(RegistryStore.TextArray(caller.ClinicScope));
        command.Parameters.Add(RegistryStore.Text(fromSerial));
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = inclusive });
        var serials = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                serials.Add(reader.GetString(0));
            }
        }
        foreach (var serial in serials)
        {
            var device = await registry.GetDeviceAsync(serial, cancellationToken);
            if (device?.Owner == owner && caller.CanSeeClinic(device.ClinicId) && await PatientSinceAsync(device, cancellationToken) is { } since)
            {
                devices.Add(new FhirDevice(device, [new ReceivedWindow(since, null)], since));
            }
        }
        return devices;
    }

    /// <summary>Start of the device's open ownership period, when it is active and has an owner.</summary>
    private async Task<DateTimeOffset?> PatientSinceAsync(RegistryDevice device, CancellationToken cancellationToken)
    {
        if (device.Owner is null || device.Status != "active")
        {
            return null;
        }
        var periods = await DeviceOwnership.PeriodsAsync(registry.DataSource, device.Serial, [device.ClinicId], cancellationToken);
        return periods.LastOrDefault(p => p.To is null)?.From;
    }

    /// <summary>One audit row per read resource or per device a search read: who read what of which clinic.</summary>
    /// <remarks>
    /// A patient identifier searched for goes into the row's <c>owner</c> field, which the audit log hides from auditors
    /// as it hides device owners (<see cref="AuditRedaction"/>).
    /// </remarks>
    public async Task AuditAsync(Caller caller, string action, IReadOnlyList<(string ResourceType, string TargetId, string? ClinicId, int Returned)> rows,
        string? search, string? owner, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var (type, id, clinic, returned) in rows)
        {
            var detail = new JsonObject { ["returned"] = returned };
            if (search is not null)
            {
                detail["search"] = search;
            }
            if (owner is not null)
            {
                detail["owner"] = owner;
            }
            await audit.RecordAsync(connection, transaction, caller, new AuditRecord(action, type, id, clinic, null, detail.ToJsonString()), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A searchset Bundle of <paramref name="resources"/> with its self link and, when there is one, the next page's.</summary>
    public Bundle Searchset(HttpRequest request, string resourceType, FhirSearch search, IReadOnlyList<Resource> resources, string? nextPage)
    {
        var fhirBase = FhirBase(request);
        var query = search.QueryWithoutPage();
        var self = $"{fhirBase}/{resourceType}" + (query.Length == 0 ? "" : "?" + query);
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Id = Guid.NewGuid().ToString("D"), Meta = new Meta { LastUpdated = time.GetUtcNow() } };
        var selfWithPage = search.Page is { } page ? self + (query.Length == 0 ? "?" : "&") + "_page=" + FhirSearch.EncodePage(page.Serial, page.Position) : self;
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = selfWithPage });
        if (nextPage is not null)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = self + (query.Length == 0 ? "?" : "&") + "_page=" + nextPage });
        }
        foreach (var resource in resources)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{fhirBase}/{resource.TypeName}/{resource.Id}",
                Resource = resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }
        return bundle;
    }
}
