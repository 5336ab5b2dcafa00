using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Cli.Cloud;

// The cloud API's bodies as edgectl reads and sends them (docs/api.md, docs/openapi/v1.json). edgectl keeps its own
// records rather than referencing the API's assembly: a technician's tool must not pull in the server.

/// <summary>A registered device (GET /v1/devices/{serial}).</summary>
internal sealed record CloudDevice(
    string Serial, string Kind, string ClinicId, string? GatewayId, string? Owner, string? Firmware, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset? RetiredAt, int? ConfigVersion);

/// <summary>A registered gateway (GET /v1/gateways/{id}).</summary>
internal sealed record CloudGateway(
    string Id, string ClinicId, string Name, string? CertificateFingerprint, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset? LastSeenAt, DateTimeOffset? RetiredAt);

internal sealed record CloudClinic(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>One page of a keyset-paginated list.</summary>
internal sealed record CloudPage<T>(IReadOnlyList<T> Items, string? NextCursor);

internal sealed record RegisterDeviceBody(string Serial, string ClinicId, string? GatewayId, string? Owner);

internal sealed record RegisterGatewayBody(string Id, string ClinicId, string Name, string? CertificateFingerprint);

internal sealed record GatewayCertificateBody(string Csr, string ClinicId, string Name);

/// <summary>The answer of POST /v1/gateways/{id}/certificate.</summary>
internal sealed record IssuedGatewayCertificate(
    CloudGateway Gateway, string Fingerprint, string CertificatePem, string CaCertificatePem, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

/// <summary>A frame of the live WebSocket: <c>subscribed</c> once, then <c>reading</c>s.</summary>
internal sealed record LiveFrame(string Type, string Serial, LiveReading? Reading);

internal sealed record LiveReading(Guid Id, string Serial, DateTimeOffset DeviceTime, DateTimeOffset StoredAt, string GatewayId, bool Urgent, JsonElement Payload);

/// <summary>A reading the workers hold at ingest (GET /v1/quarantine).</summary>
internal sealed record CloudQuarantined(
    Guid Id, string GatewayId, string Serial, string Reason, long Epoch, long Seq, DateTimeOffset ReceivedAt, DateTimeOffset QuarantinedAt, JsonElement Payload);

/// <summary>Where a cloud dead letter's or rejected reading's requeue stands: none, pending or failed (with when and why).</summary>
internal sealed record CloudRequeue(string State, DateTimeOffset? RequestedAt, DateTimeOffset? AttemptedAt, string? Outcome);

/// <summary>A gateway message the ingest workers could not read or store (GET /v1/dead-letters).</summary>
internal sealed record CloudDeadLetter(long Id, DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, int PayloadBytes, CloudRequeue Requeue);

/// <summary>GET /v1/dead-letters/{id}: the message decoded as a batch (header and readings), or its bytes as base64.</summary>
internal sealed record CloudDeadLetterDetail(
    long Id, DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, int PayloadBytes, CloudRequeue Requeue, JsonElement? Batch, string? PayloadBase64);

/// <summary>A reading the cloud did not store (GET /v1/rejected-readings).</summary>
internal sealed record CloudRejected(
    Guid Id, string GatewayId, long Epoch, long Seq, string Serial, string Reason, DateTimeOffset ReceivedAt, int PayloadBytes, CloudRequeue Requeue);

/// <summary>GET /v1/rejected-readings/{id}: with the device's payload (JSON, or base64 when it is not JSON).</summary>
internal sealed record CloudRejectedDetail(
    Guid Id, string GatewayId, long Epoch, long Seq, string Serial, string Reason, DateTimeOffset ReceivedAt, int PayloadBytes, CloudRequeue Requeue,
    JsonElement? Payload, string? PayloadBase64);

/// <summary>A local user account (GET /v1/users/{id}); the API never sends a password or its hash.</summary>
internal sealed record CloudUser(
    Guid Id, string Username, string DisplayName, string[] Roles, string[] Clinics, bool Disabled, int FailedAttempts, DateTimeOffset? LockedUntil,
    DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset UpdatedAt, string UpdatedBy);

internal sealed record CreateUserBody(string Username, string DisplayName, string Password, string[] Roles, string[] Clinics);

/// <summary>PATCH /v1/users/{id}: null fields are left out of the request and stay as they are.</summary>
internal sealed record UpdateUserBody(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisplayName,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Roles,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Clinics,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Disabled);

internal sealed record SetPasswordBody(string Password);
/// <summary>An alert and its lifecycle (GET /v1/alerts[/{id}], POST /v1/alerts/{id}/acknowledge, /resolve).</summary>
internal sealed record CloudAlert(
    Guid Id, string? Serial, string Kind, string? ClinicId, string? GatewayId, Guid? ReadingId, string Rule, string Severity, string Message,
    double? Value, double? Threshold, string? Detail, int? ConfigVersion, DateTimeOffset DeviceTime, DateTimeOffset CreatedAt,
    string State, string? AcknowledgedBy, DateTimeOffset? AcknowledgedAt, string? AcknowledgedNote,
    string? ResolvedBy, DateTimeOffset? ResolvedAt, string? ResolvedNote);

/// <summary>The body of an acknowledgement or resolution.</summary>
internal sealed record AlertStepBody(string? Note);

/// <summary>What <c>edgectl login</c> keeps in the user's config directory (mode 0600).</summary>
internal sealed record StoredCredentials(string ApiUrl, string Token, DateTimeOffset SavedAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CloudDevice))]
[JsonSerializable(typeof(CloudDevice[]))]
[JsonSerializable(typeof(CloudGateway))]
[JsonSerializable(typeof(CloudPage<CloudDevice>))]
[JsonSerializable(typeof(CloudPage<CloudClinic>))]
[JsonSerializable(typeof(RegisterDeviceBody))]
[JsonSerializable(typeof(RegisterGatewayBody))]
[JsonSerializable(typeof(GatewayCertificateBody))]
[JsonSerializable(typeof(IssuedGatewayCertificate))]
[JsonSerializable(typeof(LiveFrame))]
[JsonSerializable(typeof(CloudQuarantined[]))]
[JsonSerializable(typeof(CloudPage<CloudQuarantined>))]
[JsonSerializable(typeof(CloudDeadLetter))]
[JsonSerializable(typeof(CloudDeadLetter[]))]
[JsonSerializable(typeof(CloudPage<CloudDeadLetter>))]
[JsonSerializable(typeof(CloudDeadLetterDetail))]
[JsonSerializable(typeof(CloudRejected))]
[JsonSerializable(typeof(CloudRejected[]))]
[JsonSerializable(typeof(CloudPage<CloudRejected>))]
[JsonSerializable(typeof(CloudRejectedDetail))]
[JsonSerializable(typeof(CloudAlert))]
[JsonSerializable(typeof(CloudAlert[]))]
[JsonSerializable(typeof(CloudPage<CloudAlert>))]
[JsonSerializable(typeof(AlertStepBody))]
[JsonSerializable(typeof(StoredCredentials))]
[JsonSerializable(typeof(CloudUser))]
[JsonSerializable(typeof(CloudUser[]))]
[JsonSerializable(typeof(CloudPage<CloudUser>))]
[JsonSerializable(typeof(CreateUserBody))]
[JsonSerializable(typeof(UpdateUserBody))]
[JsonSerializable(typeof(SetPasswordBody))]
internal sealed partial class CloudJsonContext : JsonSerializerContext;
