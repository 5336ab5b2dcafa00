using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Devices;

namespace Edge.Api.Registry;

/// <summary>The registry's devices: register, list and read with their presence, transfer between clinics, retire.</summary>
internal static partial class RegistryEndpoints
{
    private static void MapDevices(RouteGroupBuilder group)
    {
        group.MapPost("/v1/devices", RegisterDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RegisterDevice").WithSummary("Registers a device by serial (idempotent).")
            .WithDescription("The serial's prefix decides the kind and so the store; kind may only turn a CPAP serial into bipap or back. gateway_id, owner, firmware and kind are optional. 201 when registered; the same request again answers 200; one that contradicts the entry (another clinic, gateway or owner) is 409 saying what differs; a clinic outside the caller's is 403. A retired device may be registered again.")
            .Produces<Device>(StatusCodes.Status201Created).Produces<Device>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/v1/devices", ListDevicesAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListDevices").WithSummary("Devices with their presence, filtered by clinic, kind, status, gateway and presence.")
            .WithDescription("Devices the caller may see, with their presence (online, offline or unknown), filtered by clinic, kind, status, gateway and presence. Keyset-paged with limit and cursor.").Produces<Page<Device>>().ProducesValidationProblem();
        group.MapGet("/v1/devices/{serial}", GetDeviceAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetDevice").WithSummary("One device, with its presence.")
            .WithDescription("404 for an unknown serial or a device outside the caller's clinics.").Produces<Device>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/v1/devices/{serial}/transfer", TransferDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("TransferDevice").WithSummary("Moves a device to another clinic, gateway or owner.")
            .WithDescription("clinic_id is required (the new clinic, or the current one); gateway_id and owner are optional. Ownership moves: each clinic keeps reading the history of its own period. Written to the audit log; 404 for a device outside the caller's clinics, 403 for a target clinic outside them, 409 for a retired device.")
            .Produces<Device>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/v1/devices/{serial}/retire", RetireDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RetireDevice").WithSummary("Retires a device; its readings stay queryable.")
            .WithDescription("The entry is kept and marked retired; its readings stay queryable and it may be registered again later. Written to the audit log; 404 for a device outside the caller's clinics.").Produces<Device>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> RegisterDeviceAsync(
        RegisterDeviceRequest request, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        SerialNumber serial = default;
        if (!SerialNumber.TryParse(request.Serial, out serial, out var serialProblem))
        {
            errors.Add("serial", serialProblem);
        }
        if (string.IsNullOrEmpty(request.ClinicId))
        {
            errors.Add("clinic_id", "is required");
        }
        CheckOptionalText(request.Owner, "owner", 200, errors);
        CheckOptionalText(request.Firmware, "firmware", 64, errors);
        var kind = serial.Kind;
        if (request.Kind is not null && !errors.Any)
        {
            if (!DeviceKinds.TryParseName(request.Kind, out var claimed))
            {
                errors.Add("kind", "must be cpap, bipap, oxygen or ecg");
            }
            else if (claimed != kind && !(IsCpapFamily(claimed) && IsCpapFamily(kind)))
            {
                errors.Add("kind", $"a {DeviceKinds.Prefix(kind)}- serial is a {DeviceKinds.Name(kind)} device; only cpap and bipap may stand for each other");
            }
            else
            {
                kind = claimed;
            }
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }
        if (!caller.CanSeeClinic(request.ClinicId))
        {
            return Problems.Forbidden($"You may not register devices in clinic {request.ClinicId}.");
        }

        var change = await registry.RegisterDeviceAsync(
            serial.Value, DeviceKinds.Name(kind), request.ClinicId!, request.GatewayId, request.Owner, request.Firmware, caller, cancellationToken);
        return Answer(change, $"/v1/devices/{serial.Value}", $"No device {serial.Value}.");
    }

    private static async Task<IResult> ListDevicesAsync(
        Caller caller, RegistryStore registry, Fleet.FleetStore fleet, DeviceAlertCounts alertCounts, string? clinic, string? kind, string? status, string? gateway, string? presence,
        int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        string? kindName = null;
        if (kind is not null)
        {
            if (DeviceKinds.TryParseName(kind, out var parsed))
            {
                kindName = DeviceKinds.Name(parsed);
            }
            else
            {
                errors.Add("kind", "must be cpap, bipap, oxygen or ecg");
            }
        }
        CheckStatus(status, errors);
        if (presence is not null and not (Fleet.DevicePresence.Online or Fleet.DevicePresence.Offline or Fleet.DevicePresence.Unknown))
        {
            errors.Add("presence", "must be online, offline or unknown");
        }
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var (scope, only) = ListingScope(caller);
        var rows = await registry.ListDevicesAsync(scope, only, clinic, kindName, status, gateway, presence, after, take + 1, cancellationToken);
        var page = PageRequest.From(await fleet.WithPresenceAsync(rows, cancellationToken), take, d => d.Serial);
        return TypedResults.Ok(page with { Items = await alertCounts.AddAsync(caller, page.Items, cancellationToken) });
    }

    private static async Task<IResult> GetDeviceAsync(
        string serial, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, DeviceAlertCounts alertCounts, CancellationToken cancellationToken)
    {
        var device = await registry.GetDeviceAsync(serial, cancellationToken);
        return device is not null && caller.CanSee(device.ClinicId, device.GatewayId)
            ? TypedResults.Ok((await alertCounts.AddAsync(caller, await fleet.WithPresenceAsync([device], cancellationToken), cancellationToken))[0])
            : Problems.NotFound($"No device {serial}.");
    }

    private static async Task<IResult> TransferDeviceAsync(
        string serial, TransferDeviceRequest request, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.ClinicId))
        {
            errors.Add("clinic_id", "is required (the clinic the device moves to, or its current one)");
        }
        CheckOptionalText(request.Owner, "owner", 200, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var change = await registry.TransferDeviceAsync(serial, request.ClinicId!, request.GatewayId, request.Owner, caller, cancellationToken);
        return Answer(change, $"/v1/devices/{serial}", $"No device {serial}.");
    }

    private static async Task<IResult> RetireDeviceAsync(string serial, Caller caller, RegistryStore registry, CancellationToken cancellationToken) =>
        Answer(await registry.RetireDeviceAsync(serial, caller, cancellationToken), $"/v1/devices/{serial}", $"No device {serial}.");
}
