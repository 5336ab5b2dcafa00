using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Edge.Console.Api;

// The API's JSON as the console reads it (snake_case on the wire; docs/api.md and docs/openapi/v1.json are the
// contract). Fields another piece adds later (presence, health, alert state) are nullable so older APIs still read.

/// <summary>Why a few of these records are public while the rest of the console is internal.</summary>
internal static class PublicForComponents
{
    /// <summary>The justification of their CA1515 suppressions.</summary>
    public const string Reason =
        "A Razor component is always public (dotnet/aspnetcore#63041), so a record one takes as a [Parameter] must be public too.";
}

/// <summary>One keyset page of a list.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

internal sealed record Clinic(string Id, string Name, DateTimeOffset CreatedAt);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record GatewayHealth(
    DateTimeOffset? LastHeartbeatAt, bool? Online, long? Backlog, DateTimeOffset? OldestUnsyncedAt, long? Shed,
    DateTimeOffset? CertificateNotAfter, string? AgentVersion, bool? ClockSynchronized, int? DevicesConnected);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record Gateway(
    string Id, string ClinicId, string Name, string? CertificateFingerprint, string Status, DateTimeOffset RegisteredAt,
    DateTimeOffset? LastSeenAt, DateTimeOffset? RetiredAt, GatewayHealth? Health);

internal sealed record GatewayEvent(long Id, string Type, string Serial, DateTimeOffset At, string? Status, int? Version, Guid? JobId, string? Reason, DateTimeOffset ReceivedAt);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record DevicePresence(string State, DateTimeOffset? Since, DateTimeOffset? LastReadingAt);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record Device(
    string Serial, string Kind, string ClinicId, string? GatewayId, string? Owner, string? Firmware, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset? RetiredAt, long? ConfigVersion, DevicePresence? Presence, int? OpenAlerts = null);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record TelemetryItem(
    Guid Id, string Serial, DateTimeOffset DeviceTime, DateTimeOffset? GatewayReceivedAt, DateTimeOffset? StoredAt,
    string? GatewayId, long? Epoch, long? Seq, bool Urgent, JsonElement Payload);

internal sealed record TelemetryPage(string Serial, string Kind, IReadOnlyList<TelemetryItem> Items, string? NextCursor);

internal sealed record SummaryBucket(DateTimeOffset BucketStart, long Count, double? Min, double? Avg, double? Max, long Alarms);

internal sealed record Summary(string Serial, string Kind, string Metric, string Bucket, IReadOnlyList<SummaryBucket> Items);

/// <summary>An alert as the inbox lists it; <c>Serial</c> is null for a gateway alert (<c>gateway_silent</c>), which names its gateway.</summary>
internal sealed record Alert(
    Guid Id, string? Serial, string Kind, string ClinicId, string? GatewayId, string Rule, string Severity, string Message,
    double? Value, double? Threshold, DateTimeOffset? DeviceTime, DateTimeOffset CreatedAt,
    string? State, string? AcknowledgedBy, DateTimeOffset? AcknowledgedAt, string? AcknowledgedNote,
    string? ResolvedBy, DateTimeOffset? ResolvedAt, string? ResolvedNote, string? AcknowledgedByName = null, string? ResolvedByName = null);

internal sealed record ConfigVersion(
    string Serial, long Version, string State, string? Reason, string? Source, long? BaseVersion, JsonElement Config,
    string? CreatedBy, DateTimeOffset QueuedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? AppliedAt,
    DateTimeOffset? RejectedAt, DateTimeOffset? SupersededAt);

internal sealed record Report(
    string ReportId, string Serial, string Source, string? GatewayId, string? UploadedBy, long SizeBytes,
    DateTimeOffset ReceivedAt, DateTimeOffset? RecordedAt);

internal sealed record AuditEntry(
    long Id, DateTimeOffset At, string Actor, string? Role, string Action, string TargetType, string TargetId, string? ClinicId);

/// <summary>The signed-in user as the API describes them (<c>POST /v1/auth/token</c>'s <c>user</c>).</summary>
internal sealed record ApiUser(string Id, string Username, string? DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics);

/// <summary>A user account as the admin pages list it.</summary>
internal sealed record UserAccount(
    string Id, string Username, string? DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics,
    bool? Disabled, DateTimeOffset? LockedUntil, DateTimeOffset? CreatedAt);

/// <summary><c>POST /v1/auth/token</c> and <c>/v1/auth/refresh</c>'s answer.</summary>
internal sealed record TokenResponse(
    string AccessToken, string TokenType, DateTimeOffset ExpiresAt, string RefreshToken, DateTimeOffset RefreshExpiresAt, ApiUser User);

internal sealed record FirmwareTarget(string Serial, string State, string? Reason, int? Percent, DateTimeOffset? UpdatedAt);

internal sealed record FirmwareJob(string Id, string Kind, string Version, DateTimeOffset CreatedAt, IReadOnlyList<FirmwareTarget> Devices);
