using System.Globalization;
using System.Text.RegularExpressions;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;

namespace Edge.Api.Registry;

/// <summary>
/// The serial registry: clinics, gateways and devices. Registration is idempotent (the same request twice is a no-op,
/// so <c>edgectl</c> can be re-run safely); a registration that contradicts the existing entry is a 409 that says what
/// differs. Entries outside the caller's clinics answer 404, so their existence does not leak.
/// </summary>
public static partial class RegistryEndpoints
{
    public const string Active = "active";
    public const string Retired = "retired";

    public static void MapRegistryEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Registry");
        app.MapPost("/v1/clinics", CreateClinicAsync).RequireAuthorization(ApiPolicies.ClinicsManage)
            .WithName("CreateClinic").WithSummary("Creates a clinic (idempotent).")
            .WithDescription("Ids are 1-63 lower-case letters, digits and dashes. 201 with the new clinic; the same request again answers 200 with it; the same id with another name is 409. Written to the audit log.")
            .Produces<Clinic>(StatusCodes.Status201Created).Produces<Clinic>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/clinics", ListClinicsAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListClinics").WithSummary("Clinics the caller may see.")
            .WithDescription("Clinics the caller's token names (every clinic for an admin), by id. Keyset-paged with limit (1-500, default 50) and cursor (the previous page's next_cursor).").Produces<Page<Clinic>>().ProducesValidationProblem();
        app.MapGet("/v1/clinics/{id}", GetClinicAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetClinic").WithSummary("One clinic.")
            .WithDescription("404 for an unknown clinic or one the caller may not see.").Produces<Clinic>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapPost("/v1/gateways", RegisterGatewayAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RegisterGateway").WithSummary("Registers a clinic gateway (idempotent).")
            .WithDescription("The id is the one in the gateway's uplink topics (edge/v1/{id}/...); certificate_fingerprint, optional, is the SHA-256 of its client certificate (colons allowed). 201 when registered; the same request again answers 200; one that contradicts the entry (another clinic or fingerprint) is 409 saying what differs; a clinic outside the caller's is 403.")
            .Produces<Gateway>(StatusCodes.Status201Created).Produces<Gateway>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/gateways", ListGatewaysAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListGateways").WithSummary("Gateways with their health, filtered by clinic and status.")
            .WithDescription("Gateways the caller may see, with their health (last seen, uplink backlog, devices online), filtered by clinic and status (active or retired). Keyset-paged with limit and cursor.").Produces<Page<Gateway>>().ProducesValidationProblem();
        app.MapGet("/v1/gateways/{id}", GetGatewayAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetGateway").WithSummary("One gateway, with its health.")
            .WithDescription("404 for an unknown gateway or one outside the caller's clinics.").Produces<Gateway>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/gateways/{id}/events", ListGatewayEventsAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListGatewayEvents").WithSummary("The gateway's recent events (device presence, config, firmware), newest first.")
            .WithDescription("Device presence changes, config and firmware progress the gateway reported, newest first. Keyset-paged with limit and cursor; 404 for a gateway outside the caller's clinics.")
            .Produces<Page<Fleet.GatewayEventItem>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/gateways/{id}/retire", RetireGatewayAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RetireGateway").WithSummary("Retires a gateway; its devices keep their history.")
            .WithDescription("The entry is kept and marked retired; its devices and their readings stay. Written to the audit log; 404 for a gateway outside the caller's clinics.").Produces<Gateway>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapPost("/v1/devices", RegisterDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RegisterDevice").WithSummary("Registers a device by serial (idempotent).")
            .WithDescription("The serial's prefix decides the kind and so the store; kind may only turn a CPAP serial into bipap or back. gateway_id, owner, firmware and kind are optional. 201 when registered; the same request again answers 200; one that contradicts the entry (another clinic, gateway or owner) is 409 saying what differs; a clinic outside the caller's is 403. A retired device may be registered again.")
            .Produces<Device>(StatusCodes.Status201Created).Produces<Device>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/devices", ListDevicesAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListDevices").WithSummary("Devices with their presence, filtered by clinic, kind, status, gateway and presence.")
            .WithDescription("Devices the caller may see, with their presence (online, offline or unknown), filtered by clinic, kind, status, gateway and presence. Keyset-paged with limit and cursor.").Produces<Page<Device>>().ProducesValidationProblem();
        app.MapGet("/v1/devices/{serial}", GetDeviceAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetDevice").WithSummary("One device, with its presence.")
            .WithDescription("404 for an unknown serial or a device outside the caller's clinics.").Produces<Device>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/devices/{serial}/transfer", TransferDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("TransferDevice").WithSummary("Moves a device to another clinic, gateway or owner.")
            .WithDescription("clinic_id is required (the new clinic, or the current one); gateway_id and owner are optional. Ownership moves: each clinic keeps reading the history of its own period. Written to the audit log; 404 for a device outside the caller's clinics, 403 for a target clinic outside them, 409 for a retired device.")
            .Produces<Device>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/v1/devices/{serial}/retire", RetireDeviceAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RetireDevice").WithSummary("Retires a device; its readings stay queryable.")
            .WithDescription("The entry is kept and marked retired; its readings stay queryable and it may be registered again later. Written to the audit log; 404 for a device outside the caller's clinics.").Produces<Device>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex ClinicIdFormat();

    // Clinics

    private static async Task<IResult> CreateClinicAsync(
        CreateClinicRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.Id) || !ClinicIdFormat().IsMatch(request.Id))
        {
            errors.Add("id", "is required: 1-63 lower-case letters, digits and dashes, starting with a letter or digit");
        }
        CheckName(request.Name, "name", errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var clinic = new Clinic(request.Id!, request.Name!.Trim(), time.GetUtcNow());
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await RegistryStore.InsertClinicAsync(connection, transaction, clinic, cancellationToken))
        {
            var existing = (await registry.GetClinicAsync(clinic.Id, cancellationToken, connection, transaction))!;
            return existing.Name == clinic.Name
                ? TypedResults.Ok(existing)
                : Problems.Conflict($"Clinic {clinic.Id} exists with the name '{existing.Name}'.");
        }
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("clinic.create", "clinic", clinic.Id, clinic.Id, null, AuditTrail.Json(clinic, ApiJsonContext.Default.Clinic)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/v1/clinics/{clinic.Id}", clinic);
    }

    private static async Task<IResult> ListClinicsAsync(Caller caller, RegistryStore registry, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var rows = await registry.ListClinicsAsync(caller.ClinicScope, after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(rows, take, c => c.Id));
    }

    private static async Task<IResult> GetClinicAsync(string id, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var clinic = caller.CanSeeClinic(id) ? await registry.GetClinicAsync(id, cancellationToken) : null;
        return clinic is null ? Problems.NotFound($"No clinic {id}.") : TypedResults.Ok(clinic);
    }

    // Gateways

    private static async Task<IResult> RegisterGatewayAsync(
        RegisterGatewayRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.Id) || !UplinkTopics.IsValidGatewayId(request.Id))
        {
            errors.Add("id", "is required: 1-64 letters, digits, '-' or '_' (it is part of the uplink topics)");
        }
        else if (ReservedGatewayIds.Reason(request.Id) is { } reserved)
        {
            errors.Add("id", reserved);
        }
        if (string.IsNullOrEmpty(request.ClinicId))
        {
            errors.Add("clinic_id", "is required");
        }
        CheckName(request.Name, "name", errors);
        var fingerprint = NormalizeFingerprint(request.CertificateFingerprint, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        if (!caller.CanSeeClinic(request.ClinicId))
        {
            return Problems.Forbidden($"You may not register gateways in clinic {request.ClinicId}.");
        }

        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await registry.GetClinicAsync(request.ClinicId!, cancellationToken, connection, transaction) is null)
        {
            return Problems.BadParameter("clinic_id", $"no clinic {request.ClinicId}");
        }

        var gateway = new Gateway(request.Id!, request.ClinicId!, request.Name!.Trim(), fingerprint, Active, time.GetUtcNow(), null, null);
        if (!await RegistryStore.InsertGatewayAsync(connection, transaction, gateway, cancellationToken))
        {
            var existing = (await registry.GetGatewayAsync(gateway.Id, cancellationToken, connection, transaction))!;
            if (!caller.CanSeeClinic(existing.ClinicId))
            {
                // Another clinic's gateway: neither its clinic nor its details are named.
                return Problems.Conflict("The gateway id is registered in another clinic; choose another id.");
            }
            var difference = existing.ClinicId != gateway.ClinicId ? $"it belongs to clinic {existing.ClinicId}"
                : existing.Name != gateway.Name ? $"it is named '{existing.Name}'"
                : existing.CertificateFingerprint != gateway.CertificateFingerprint ? "it has another certificate"
                : existing.Status != Active ? "it is retired"
                : null;
            return difference is null ? TypedResults.Ok(existing) : Problems.Conflict($"Gateway {gateway.Id} is already registered and {difference}.");
        }
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("gateway.register", "gateway", gateway.Id, gateway.ClinicId, null, AuditTrail.Json(gateway, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/v1/gateways/{gateway.Id}", gateway);
    }

    private static async Task<IResult> ListGatewaysAsync(
        Caller caller, RegistryStore registry, Fleet.FleetStore fleet, string? clinic, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        CheckStatus(status, errors);
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var scope = caller.IsGatewayOnly ? null : caller.ClinicScope;
        var only = caller.IsGatewayOnly ? caller.GatewayId ?? "" : null;
        var rows = await registry.ListGatewaysAsync(scope, only, clinic, status, after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(await fleet.WithHealthAsync(rows, cancellationToken), take, g => g.Id));
    }

    private static async Task<IResult> GetGatewayAsync(string id, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, CancellationToken cancellationToken)
    {
        var gateway = await registry.GetGatewayAsync(id, cancellationToken);
        return gateway is not null && caller.CanSee(gateway.ClinicId, gateway.Id)
            ? TypedResults.Ok((await fleet.WithHealthAsync([gateway], cancellationToken))[0])
            : Problems.NotFound($"No gateway {id}.");
    }

    private static async Task<IResult> ListGatewayEventsAsync(
        string id, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = EventCursor(PageRequest.After(cursor, errors), errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var gateway = await registry.GetGatewayAsync(id, cancellationToken);
        if (gateway is null || !caller.CanSee(gateway.ClinicId, gateway.Id))
        {
            return Problems.NotFound($"No gateway {id}.");
        }
        var rows = await fleet.EventsAsync(id, after, take + 1, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.Item.At.UtcTicks}:{r.Seq}"));
        return TypedResults.Ok(new Page<Fleet.GatewayEventItem>([.. page.Items.Select(r => r.Item)], page.NextCursor));
    }

    // The events' cursor is "{gateway time in UTC ticks}:{arrival sequence}" of the last event of the previous page.
    private static (DateTimeOffset At, long Seq)? EventCursor(string? key, RequestErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        var parts = key.Split(':');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return (new DateTimeOffset(ticks, TimeSpan.Zero), seq);
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }

    private static async Task<IResult> RetireGatewayAsync(
        string id, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await registry.GetGatewayAsync(id, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return Problems.NotFound($"No gateway {id}.");
        }
        if (before.Status == Retired)
        {
            return TypedResults.Ok(before);
        }
        var now = time.GetUtcNow();
        await RegistryStore.RetireGatewayAsync(connection, transaction, id, now, cancellationToken);
        var after = before with { Status = Retired, RetiredAt = now };
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("gateway.retire", "gateway", id, before.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Gateway), AuditTrail.Json(after, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(after);
    }

    // Devices

    private static async Task<IResult> RegisterDeviceAsync(
        RegisterDeviceRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
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

        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await CheckPlacementAsync(registry, request.ClinicId!, request.GatewayId, connection, transaction, cancellationToken) is { } placementProblem)
        {
            return placementProblem;
        }

        var device = new Device(serial.Value, DeviceKinds.Name(kind), request.ClinicId!, request.GatewayId, request.Owner, request.Firmware,
            Active, time.GetUtcNow(), null, null);
        var existing = await registry.GetDeviceAsync(device.Serial, cancellationToken, connection, transaction);
        if (existing is not null && !caller.CanSeeClinic(existing.ClinicId))
        {
            // Active or retired, another clinic's device is not the caller's to take: re-registering it would open a new
            // ownership period in the caller's clinic. Only an admin moves a device across clinics (audited below). The
            // answer names neither the serial's clinic nor whether it is retired there.
            return Problems.Conflict("The serial is registered in another clinic; an admin can move it.");
        }
        if (existing is not null && existing.Status == Active)
        {
            var difference = existing.ClinicId != device.ClinicId ? $"it belongs to clinic {existing.ClinicId} (use transfer)"
                : existing.GatewayId != device.GatewayId ? $"it is attached to gateway {existing.GatewayId ?? "(none)"} (use transfer)"
                : existing.Owner != device.Owner ? "it has another owner (use transfer)"
                : existing.Kind != device.Kind ? $"it is registered as {existing.Kind}"
                : existing.Firmware != device.Firmware && device.Firmware is not null ? $"it runs firmware {existing.Firmware ?? "(unknown)"}"
                : null;
            return difference is null ? TypedResults.Ok(existing) : Problems.Conflict($"Device {device.Serial} is already registered and {difference}.");
        }

        // A retired device coming back keeps its configuration history (each clinic reads the versions of its own periods).
        device = device with { ConfigVersion = existing?.ConfigVersion };
        await RegistryStore.UpsertDeviceAsync(connection, transaction, device, cancellationToken);
        await DeviceOwnership.OpenAsync(connection, transaction, device.Serial, device.ClinicId, device.GatewayId, device.RegisteredAt, cancellationToken);
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.register", "device", device.Serial, device.ClinicId,
            existing is null ? null : AuditTrail.Json(existing, ApiJsonContext.Default.Device), AuditTrail.Json(device, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/v1/devices/{device.Serial}", device);
    }

    private static async Task<IResult> ListDevicesAsync(
        Caller caller, RegistryStore registry, Fleet.FleetStore fleet, string? clinic, string? kind, string? status, string? gateway, string? presence,
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
        var scope = caller.IsGatewayOnly ? null : caller.ClinicScope;
        var only = caller.IsGatewayOnly ? caller.GatewayId ?? "" : null;
        var rows = await registry.ListDevicesAsync(scope, only, clinic, kindName, status, gateway, presence, after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(await fleet.WithPresenceAsync(rows, cancellationToken), take, d => d.Serial));
    }

    private static async Task<IResult> GetDeviceAsync(string serial, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, CancellationToken cancellationToken)
    {
        var device = await registry.GetDeviceAsync(serial, cancellationToken);
        return device is not null && caller.CanSee(device.ClinicId, device.GatewayId)
            ? TypedResults.Ok((await fleet.WithPresenceAsync([device], cancellationToken))[0])
            : Problems.NotFound($"No device {serial}.");
    }

    private static async Task<IResult> TransferDeviceAsync(
        string serial, TransferDeviceRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
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

        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await registry.GetDeviceAsync(serial, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return Problems.NotFound($"No device {serial}.");
        }
        if (before.Status != Active)
        {
            return Problems.Conflict($"Device {serial} is retired; register it again first.");
        }
        if (!caller.CanSeeClinic(request.ClinicId))
        {
            return Problems.Forbidden($"You may not move devices into clinic {request.ClinicId}.");
        }
        if (await CheckPlacementAsync(registry, request.ClinicId!, request.GatewayId, connection, transaction, cancellationToken) is { } placementProblem)
        {
            return placementProblem;
        }

        var after = before with { ClinicId = request.ClinicId!, GatewayId = request.GatewayId, Owner = request.Owner };
        await RegistryStore.UpsertDeviceAsync(connection, transaction, after, cancellationToken);
        if (after.ClinicId != before.ClinicId)
        {
            // From now on (or from the first reading its new gateway sent that waits in quarantine) the new clinic reads
            // what the device sends, the old one what it sent before.
            await DeviceOwnership.OpenAsync(connection, transaction, serial, after.ClinicId, after.GatewayId, time.GetUtcNow(), cancellationToken);
        }
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.transfer", "device", serial, after.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Device), AuditTrail.Json(after, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(after);
    }

    private static async Task<IResult> RetireDeviceAsync(
        string serial, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await registry.GetDeviceAsync(serial, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return Problems.NotFound($"No device {serial}.");
        }
        if (before.Status == Retired)
        {
            return TypedResults.Ok(before);
        }
        var after = before with { Status = Retired, RetiredAt = time.GetUtcNow() };
        await RegistryStore.UpsertDeviceAsync(connection, transaction, after, cancellationToken);
        await DeviceOwnership.CloseAsync(connection, transaction, serial, after.RetiredAt.Value, cancellationToken);
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.retire", "device", serial, before.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Device), AuditTrail.Json(after, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(after);
    }

    // Checks

    private static async Task<IResult?> CheckPlacementAsync(
        RegistryStore registry, string clinicId, string? gatewayId, Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        if (await registry.GetClinicAsync(clinicId, cancellationToken, connection, transaction) is null)
        {
            return Problems.BadParameter("clinic_id", $"no clinic {clinicId}");
        }
        if (gatewayId is null)
        {
            return null;
        }
        var gateway = await registry.GetGatewayAsync(gatewayId, cancellationToken, connection, transaction);
        // An unknown id and another clinic's gateway get the same answer: whether the id exists elsewhere is not told.
        return gateway is null || gateway.ClinicId != clinicId ? Problems.BadParameter("gateway_id", $"is not a gateway of clinic {clinicId}")
            : gateway.Status != Active ? Problems.BadParameter("gateway_id", "the gateway is retired")
            : null;
    }

    private static bool IsCpapFamily(DeviceKind kind) => kind is DeviceKind.Cpap or DeviceKind.Bipap;

    private static void CheckName(string? name, string parameter, RequestErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200)
        {
            errors.Add(parameter, "is required: 1-200 characters");
        }
    }

    private static void CheckOptionalText(string? value, string parameter, int maxLength, RequestErrors errors)
    {
        if (value is not null && (value.Length == 0 || value.Length > maxLength || value.Any(char.IsControl)))
        {
            errors.Add(parameter, $"must be 1-{maxLength} characters without control characters");
        }
    }

    private static void CheckStatus(string? status, RequestErrors errors)
    {
        if (status is not null and not Active and not Retired)
        {
            errors.Add("status", "must be active or retired");
        }
    }

    private static string? NormalizeFingerprint(string? fingerprint, RequestErrors errors)
    {
        if (fingerprint is null)
        {
            return null;
        }
        // openssl prints AB:CD:…; the registry keeps plain lower-case hex.
        var hex = fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            errors.Add("certificate_fingerprint", "must be the certificate's SHA-256 fingerprint: 64 hex digits, colons allowed");
            return null;
        }
        return hex;
    }
}
