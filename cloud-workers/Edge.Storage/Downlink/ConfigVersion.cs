using System.Text.Json;

namespace Edge.Storage.Downlink;

/// <summary>
/// One version of a device's desired config and how far it got: queued (stored in the cloud) → delivered (the gateway
/// stored it and published it to the device) → applied | rejected (the device's answer, with its reason), or superseded
/// (a newer version was queued first). Each step keeps its time.
/// </summary>
public sealed record ConfigVersion(
    string Serial,
    int Version,
    string State,
    string? Reason,
    string Source,
    int? BaseVersion,
    JsonElement Config,
    string CreatedBy,
    DateTimeOffset QueuedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? AppliedAt,
    DateTimeOffset? RejectedAt,
    DateTimeOffset? SupersededAt);

public static class ConfigStates
{
    public const string Queued = "queued";
    public const string Delivered = "delivered";
    public const string Applied = "applied";
    public const string Rejected = "rejected";
    public const string Superseded = "superseded";
}
