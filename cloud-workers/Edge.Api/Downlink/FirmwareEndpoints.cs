using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Contracts.Downlink;
using Edge.Storage.Downlink;

namespace Edge.Api.Downlink;

/// <summary>
/// Firmware jobs: one version for one device kind, offered to a list of devices through their gateways. The gateway
/// relays the offer and the devices' progress; it never downloads firmware.
/// </summary>
internal static class FirmwareEndpoints
{
    public const int MaxTargets = 1000;

    public static void MapFirmwareEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/firmware/jobs", CreateAsync).RequireAuthorization(ApiPolicies.FirmwareManage).WithTags("Firmware")
            .WithName("CreateFirmwareJob").WithSummary("Offers a firmware version to devices; each device's older unfinished job is superseded.")
            .WithDescription("Offers the firmware (version, https URL and SHA-256) to the listed devices of one kind; their gateways deliver it and report progress. A device's older unfinished job is superseded. 400 names the field (an unknown serial, a serial of another kind, a bad hash).")
            .Produces<FirmwareJob>(StatusCodes.Status201Created).ProducesValidationProblem();
        app.MapGet("/v1/firmware/jobs/{id:guid}", GetAsync).RequireAuthorization(ApiPolicies.FirmwareRead).WithTags("Firmware")
            .WithName("GetFirmwareJob").WithSummary("The job and each device's state: queued, delivered, downloading, installing, done, failed, superseded.")
            .WithDescription("The job, its counts per state and each device's progress. 404 for an unknown job or one outside the caller's clinics.")
            .Produces<FirmwareJob>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(
        CreateFirmwareJobRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var id = Guid.CreateVersion7(time.GetUtcNow());
        var serials = (request.Serials ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (request.Kind is not ("cpap" or "bipap" or "oxygen" or "ecg"))
        {
            errors.Add("kind", "must be cpap, bipap, oxygen or ecg");
        }

        var imageError = DeviceReplyReader.CheckImage(request.Version ?? "", request.Url ?? "", request.Sha256 ?? "");
        if (imageError.Length > 0)
        {
            var split = imageError.IndexOf(": ", StringComparison.Ordinal);
            errors.Add(imageError[..split], imageError[(split + 2)..]);
        }

        if (serials.Count is 0 or > MaxTargets)
        {
            errors.Add("serials", $"must list 1-{MaxTargets} devices");
        }

        var devices = new List<Device>();
        foreach (var serial in serials)
        {
            var device = await registry.GetDeviceAsync(serial, cancellationToken);
            if (device is null || !caller.CanSeeClinic(device.ClinicId))
            {
                errors.Add("serials", $"{serial}: no such device");
            }
            else if (device.Status != "active" || device.GatewayId is null)
            {
                errors.Add("serials", $"{serial}: {(device.Status != "active" ? "is retired" : "has no gateway to relay the offer")}");
            }
            else if (device.Kind != request.Kind)
            {
                errors.Add("serials", $"{serial}: is a {device.Kind} device, the job is for {request.Kind}");
            }
            else
            {
                devices.Add(device);
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await FirmwareJobs.CreateAsync(connection, transaction, id, request.Kind!, request.Version!, request.Url!, request.Sha256!, serials, caller.Subject,
            time.GetUtcNow(), cancellationToken);
        foreach (var device in devices)
        {
            await audit.RecordAsync(connection, transaction, caller, new AuditRecord("firmware.offer", "device", device.Serial, device.ClinicId, null,
                AuditTrail.Json(request with { Serials = [device.Serial] }, ApiJsonContext.Default.CreateFirmwareJobRequest)), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        var job = await FirmwareJobs.GetAsync(registry.DataSource, id, cancellationToken);
        return TypedResults.Json(job!, ApiJsonContext.Default.FirmwareJob, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(Guid id, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var job = await FirmwareJobs.GetAsync(registry.DataSource, id, cancellationToken);
        if (job is null)
        {
            return Problems.NotFound($"No firmware job {id}.");
        }

        // Clinic scoping: a non-admin sees the job's devices of their clinics only, and not the job if it has none.
        if (caller.ClinicScope is not null)
        {
            var visible = new List<FirmwareTarget>();
            foreach (var target in job.Devices)
            {
                var device = await registry.GetDeviceAsync(target.Serial, cancellationToken);
                if (device is not null && caller.CanSeeClinic(device.ClinicId))
                {
                    visible.Add(target);
                }
            }

            if (visible.Count == 0)
            {
                return Problems.NotFound($"No firmware job {id}.");
            }

            job = job with { Devices = visible, Counts = FirmwareJobs.States.ToDictionary(s => s, s => visible.Count(d => d.State == s)) };
        }

        return TypedResults.Ok(job);
    }
}
