namespace Edge.Api.Registry;

/// <summary>A gateway's or device's <c>status</c>: retired entries are kept, with their history.</summary>
internal static class RegistryStatus
{
    public const string Active = "active";
    public const string Retired = "retired";
}

/// <summary>A clinic: the unit of ownership and of access (tokens list the clinics a user may see).</summary>
internal sealed record Clinic(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>Body of <c>POST /v1/clinics</c>.</summary>
internal sealed record CreateClinicRequest(string? Id, string? Name);

/// <summary>A clinic gateway: the edge agent's identity in the cloud.</summary>
/// <param name="CertificateFingerprint">SHA-256 of the gateway's client certificate (DER), lower-case hex.</param>
/// <param name="Status">active or retired.</param>
/// <param name="LastSeenAt">When a worker last stored a batch or a heartbeat from it.</param>
/// <param name="Health">Its latest heartbeat (<c>GET</c> answers only; null before the first one).</param>
internal sealed record Gateway(
    string Id, string ClinicId, string Name, string? CertificateFingerprint, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset? LastSeenAt, DateTimeOffset? RetiredAt, Fleet.GatewayHealth? Health = null);

/// <summary>Body of <c>POST /v1/gateways</c>. Registering the same gateway again with the same values is a no-op.</summary>
internal sealed record RegisterGatewayRequest(string? Id, string? ClinicId, string? Name, string? CertificateFingerprint = null);

/// <summary>A registered device. Its <see cref="Kind"/> decides the store its readings are read from.</summary>
/// <param name="Owner">Who the device is issued to (a patient reference or a ward), opaque to the system.</param>
/// <param name="Status">active or retired.</param>
/// <param name="ConfigVersion">The current desired configuration's version, when one was set.</param>
/// <param name="Presence">Whether it is connected to its gateway (<c>GET</c> answers only).</param>
/// <param name="OpenAlerts">Its alerts in state open, in the caller's clinics (<c>GET</c> answers to callers who may read alerts only; absent otherwise).</param>
internal sealed record Device(
    string Serial, string Kind, string ClinicId, string? GatewayId, string? Owner, string? Firmware, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset? RetiredAt, int? ConfigVersion, Fleet.DevicePresence? Presence = null, int? OpenAlerts = null);

/// <summary>Body of <c>POST /v1/devices</c>. Registering the same device again with the same values is a no-op.</summary>
/// <param name="Kind">Optional; the serial's prefix decides, and only cpap and bipap may stand for each other (they share a store).</param>
internal sealed record RegisterDeviceRequest(string? Serial, string? ClinicId, string? GatewayId = null, string? Owner = null, string? Firmware = null, string? Kind = null);

/// <summary>Body of <c>POST /v1/devices/{serial}/transfer</c>: the new clinic, gateway and owner.</summary>
internal sealed record TransferDeviceRequest(string? ClinicId, string? GatewayId = null, string? Owner = null);
