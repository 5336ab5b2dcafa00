using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Cli.Configs;

/// <summary>A config version as the API shows it (<c>GET /v1/devices/{serial}/config</c>).</summary>
internal sealed record CloudConfigVersion(
    string Serial,
    int Version,
    string State,
    string? Reason,
    string Source,
    JsonElement Config,
    string CreatedBy,
    DateTimeOffset QueuedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? AppliedAt,
    DateTimeOffset? RejectedAt,
    DateTimeOffset? SupersededAt)
{
    /// <summary>The device answered, or a newer version took its place: waiting longer changes nothing.</summary>
    public bool IsFinal => State is "applied" or "rejected" or "superseded";
}

/// <summary>A firmware job as the API shows it.</summary>
internal sealed record CloudFirmwareJob(
    Guid Id,
    string Kind,
    string Version,
    string Url,
    string Sha256,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<CloudFirmwareTarget> Devices);

internal sealed record CloudFirmwareTarget(
    string Serial, string State, string? Reason, int? Percent, DateTimeOffset QueuedAt, DateTimeOffset? DeliveredAt, DateTimeOffset UpdatedAt, DateTimeOffset? FinishedAt);

internal sealed record CreateFirmwareJobBody(string Kind, string Version, string Url, string Sha256, IReadOnlyList<string> Serials);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(CloudConfigVersion))]
[JsonSerializable(typeof(CloudFirmwareJob))]
[JsonSerializable(typeof(CreateFirmwareJobBody))]
internal sealed partial class DownlinkJsonContext : JsonSerializerContext;
