using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;

namespace Edge.Api.Registry;

/// <summary>What became of a change to the registry; the endpoint turns it into its response.</summary>
internal enum RegistryOutcome
{
    /// <summary>A new entry (or a retired device registered again): 201 with it.</summary>
    Created,

    /// <summary>The same request again, or a retirement of a retired entry: nothing changed, 200 with the entry as it is.</summary>
    Unchanged,

    /// <summary>The entry changed: 200 with it after the change.</summary>
    Changed,

    /// <summary>A parameter names nothing usable (an unknown clinic, another clinic's gateway): 400 naming <see cref="RegistryChange{T}.Field"/>.</summary>
    Invalid,

    /// <summary>No such entry within the caller's clinics: 404.</summary>
    NotFound,

    /// <summary>The caller may not place the entry where the request asks: 403.</summary>
    Forbidden,

    /// <summary>The request contradicts the entry: 409.</summary>
    Conflict,
}

/// <summary>
/// The outcome of a registry change, the entry it answers with (the new, existing or changed one), and for a refusal the
/// parameter (<see cref="RegistryOutcome.Invalid"/>) and the reason, worded for the caller.
/// </summary>
internal sealed record RegistryChange<T>(RegistryOutcome Outcome, T? Entry, string? Field = null, string? Reason = null)
    where T : class
{
    internal static RegistryChange<T> Created(T entry) => new(RegistryOutcome.Created, entry);

    internal static RegistryChange<T> Unchanged(T entry) => new(RegistryOutcome.Unchanged, entry);

    internal static RegistryChange<T> Changed(T entry) => new(RegistryOutcome.Changed, entry);

    internal static RegistryChange<T> Invalid(string field, string reason) => new(RegistryOutcome.Invalid, null, field, reason);

    internal static RegistryChange<T> NotFound() => new(RegistryOutcome.NotFound, null);

    internal static RegistryChange<T> Forbidden(string reason) => new(RegistryOutcome.Forbidden, null, Reason: reason);

    internal static RegistryChange<T> Conflict(string reason) => new(RegistryOutcome.Conflict, null, Reason: reason);
}

/// <summary>
/// The registry's changes: each one decides and writes in one transaction, with its audit record, so there is no change
/// without its record and no record of a change that rolled back. A gateway or device is locked (<c>FOR UPDATE</c>) while a
/// change to it is decided, and a new entry is inserted only if absent, so two requests at once make one change. Another
/// clinic's entry is as absent as a missing one, and a refusal names nothing of another clinic.
/// </summary>
internal sealed partial class RegistryStore
{
    /// <summary>Creates clinic <paramref name="id"/>; the same id with the same name again is unchanged, with another name a conflict.</summary>
    public async Task<RegistryChange<Clinic>> CreateClinicAsync(string id, string name, Caller caller, CancellationToken cancellationToken)
    {
        var clinic = new Clinic(id, name, time.GetUtcNow());
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await InsertClinicAsync(connection, transaction, clinic, cancellationToken))
        {
            var existing = (await GetClinicAsync(clinic.Id, cancellationToken, connection, transaction))!;
            return existing.Name == clinic.Name
                ? RegistryChange<Clinic>.Unchanged(existing)
                : RegistryChange<Clinic>.Conflict($"Clinic {clinic.Id} exists with the name '{existing.Name}'.");
        }
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("clinic.create", "clinic", clinic.Id, clinic.Id, null, AuditTrail.Json(clinic, ApiJsonContext.Default.Clinic)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Clinic>.Created(clinic);
    }

    /// <summary>
    /// Registers gateway <paramref name="id"/> in <paramref name="clinicId"/> (which the caller may see); the same values
    /// again are unchanged, other ones a conflict that says what differs.
    /// </summary>
    public async Task<RegistryChange<Gateway>> RegisterGatewayAsync(
        string id, string clinicId, string name, string? certificateFingerprint, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await GetClinicAsync(clinicId, cancellationToken, connection, transaction) is null)
        {
            return RegistryChange<Gateway>.Invalid("clinic_id", $"no clinic {clinicId}");
        }

        var gateway = new Gateway(id, clinicId, name, certificateFingerprint, RegistryStatus.Active, time.GetUtcNow(), null, null);
        if (!await InsertGatewayAsync(connection, transaction, gateway, cancellationToken))
        {
            var existing = (await GetGatewayAsync(gateway.Id, cancellationToken, connection, transaction))!;
            if (!caller.CanSeeClinic(existing.ClinicId))
            {
                // Another clinic's gateway: neither its clinic nor its details are named.
                return RegistryChange<Gateway>.Conflict("The gateway id is registered in another clinic; choose another id.");
            }
            var difference = existing.ClinicId != gateway.ClinicId ? $"it belongs to clinic {existing.ClinicId}"
                : existing.Name != gateway.Name ? $"it is named '{existing.Name}'"
                : existing.CertificateFingerprint != gateway.CertificateFingerprint ? "it has another certificate"
                : existing.Status != RegistryStatus.Active ? "it is retired"
                : null;
            return difference is null
                ? RegistryChange<Gateway>.Unchanged(existing)
                : RegistryChange<Gateway>.Conflict($"Gateway {gateway.Id} is already registered and {difference}.");
        }
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("gateway.register", "gateway", gateway.Id, gateway.ClinicId, null, AuditTrail.Json(gateway, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Gateway>.Created(gateway);
    }

    /// <summary>Retires gateway <paramref name="id"/>; a retired one is unchanged.</summary>
    public async Task<RegistryChange<Gateway>> RetireGatewayAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await GetGatewayAsync(id, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return RegistryChange<Gateway>.NotFound();
        }
        if (before.Status == RegistryStatus.Retired)
        {
            return RegistryChange<Gateway>.Unchanged(before);
        }
        var now = time.GetUtcNow();
        await MarkGatewayRetiredAsync(connection, transaction, id, now, cancellationToken);
        var after = before with { Status = RegistryStatus.Retired, RetiredAt = now };
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("gateway.retire", "gateway", id, before.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Gateway), AuditTrail.Json(after, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Gateway>.Changed(after);
    }

    /// <summary>
    /// Registers device <paramref name="serial"/> (its <paramref name="kind"/> already checked against the serial) in
    /// <paramref name="clinicId"/>, which the caller may see, and opens its ownership period there. An active device with
    /// the same values is unchanged, with other ones a conflict; a retired one of the caller's clinics is registered again.
    /// </summary>
    public async Task<RegistryChange<Device>> RegisterDeviceAsync(
        string serial, string kind, string clinicId, string? gatewayId, string? owner, string? firmware, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await CheckPlacementAsync(clinicId, gatewayId, connection, transaction, cancellationToken) is { } placementProblem)
        {
            return placementProblem.As<Device>();
        }

        var device = new Device(serial, kind, clinicId, gatewayId, owner, firmware, RegistryStatus.Active, time.GetUtcNow(), null, null);
        var existing = await GetDeviceAsync(device.Serial, cancellationToken, connection, transaction);
        if (existing is not null && !caller.CanSeeClinic(existing.ClinicId))
        {
            // Active or retired, another clinic's device is not the caller's to take: re-registering it would open a new
            // ownership period in the caller's clinic. Only an admin moves a device across clinics (audited below). The
            // answer names neither the serial's clinic nor whether it is retired there.
            return RegistryChange<Device>.Conflict("The serial is registered in another clinic; an admin can move it.");
        }
        if (existing is not null && existing.Status == RegistryStatus.Active)
        {
            var difference = existing.ClinicId != device.ClinicId ? $"it belongs to clinic {existing.ClinicId} (use transfer)"
                : existing.GatewayId != device.GatewayId ? $"it is attached to gateway {existing.GatewayId ?? "(none)"} (use transfer)"
                : existing.Owner != device.Owner ? "it has another owner (use transfer)"
                : existing.Kind != device.Kind ? $"it is registered as {existing.Kind}"
                : existing.Firmware != device.Firmware && device.Firmware is not null ? $"it runs firmware {existing.Firmware ?? "(unknown)"}"
                : null;
            return difference is null
                ? RegistryChange<Device>.Unchanged(existing)
                : RegistryChange<Device>.Conflict($"Device {device.Serial} is already registered and {difference}.");
        }

        // A retired device coming back keeps its configuration history (each clinic reads the versions of its own periods).
        device = device with { ConfigVersion = existing?.ConfigVersion };
        await UpsertDeviceAsync(connection, transaction, device, cancellationToken);
        await DeviceOwnership.OpenAsync(connection, transaction, device.Serial, device.ClinicId, device.GatewayId, device.RegisteredAt, cancellationToken);
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.register", "device", device.Serial, device.ClinicId,
            existing is null ? null : AuditTrail.Json(existing, ApiJsonContext.Default.Device), AuditTrail.Json(device, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Device>.Created(device);
    }

    /// <summary>
    /// Moves device <paramref name="serial"/> to <paramref name="clinicId"/> (or keeps it there), to
    /// <paramref name="gatewayId"/> and <paramref name="owner"/>; a move to another clinic opens an ownership period there.
    /// </summary>
    public async Task<RegistryChange<Device>> TransferDeviceAsync(
        string serial, string clinicId, string? gatewayId, string? owner, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await GetDeviceAsync(serial, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return RegistryChange<Device>.NotFound();
        }
        if (before.Status != RegistryStatus.Active)
        {
            return RegistryChange<Device>.Conflict($"Device {serial} is retired; register it again first.");
        }
        // Decided after the device is found, so a device outside the caller's clinics answers 404 whatever the target.
        if (!caller.CanSeeClinic(clinicId))
        {
            return RegistryChange<Device>.Forbidden($"You may not move devices into clinic {clinicId}.");
        }
        if (await CheckPlacementAsync(clinicId, gatewayId, connection, transaction, cancellationToken) is { } placementProblem)
        {
            return placementProblem.As<Device>();
        }

        var after = before with { ClinicId = clinicId, GatewayId = gatewayId, Owner = owner };
        await UpsertDeviceAsync(connection, transaction, after, cancellationToken);
        if (after.ClinicId != before.ClinicId)
        {
            // From now on (or from the first reading its new gateway sent that waits in quarantine) the new clinic reads
            // what the device sends, the old one what it sent before.
            await DeviceOwnership.OpenAsync(connection, transaction, serial, after.ClinicId, after.GatewayId, time.GetUtcNow(), cancellationToken);
        }
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.transfer", "device", serial, after.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Device), AuditTrail.Json(after, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Device>.Changed(after);
    }

    /// <summary>Retires device <paramref name="serial"/> and closes its ownership period; a retired one is unchanged.</summary>
    public async Task<RegistryChange<Device>> RetireDeviceAsync(string serial, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await GetDeviceAsync(serial, cancellationToken, connection, transaction);
        if (before is null || !caller.CanSeeClinic(before.ClinicId))
        {
            return RegistryChange<Device>.NotFound();
        }
        if (before.Status == RegistryStatus.Retired)
        {
            return RegistryChange<Device>.Unchanged(before);
        }
        var after = before with { Status = RegistryStatus.Retired, RetiredAt = time.GetUtcNow() };
        await UpsertDeviceAsync(connection, transaction, after, cancellationToken);
        await DeviceOwnership.CloseAsync(connection, transaction, serial, after.RetiredAt.Value, cancellationToken);
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("device.retire", "device", serial, before.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Device), AuditTrail.Json(after, ApiJsonContext.Default.Device)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RegistryChange<Device>.Changed(after);
    }

    /// <summary>A refusal of where an entry is placed: the clinic must exist, the gateway (if any) be an active one of it.</summary>
    private readonly record struct PlacementProblem(string Field, string Reason)
    {
        public RegistryChange<T> As<T>() where T : class => RegistryChange<T>.Invalid(Field, Reason);
    }

    private async Task<PlacementProblem?> CheckPlacementAsync(
        string clinicId, string? gatewayId, Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (await GetClinicAsync(clinicId, cancellationToken, connection, transaction) is null)
        {
            return new PlacementProblem("clinic_id", $"no clinic {clinicId}");
        }
        if (gatewayId is null)
        {
            return null;
        }
        var gateway = await GetGatewayAsync(gatewayId, cancellationToken, connection, transaction);
        // An unknown id and another clinic's gateway get the same answer: whether the id exists elsewhere is not told.
        return gateway is null || gateway.ClinicId != clinicId ? new PlacementProblem("gateway_id", $"is not a gateway of clinic {clinicId}")
            : gateway.Status != RegistryStatus.Active ? new PlacementProblem("gateway_id", "the gateway is retired")
            : null;
    }
}
