using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Uplink;

/// <summary>
/// The gateway's health on <c>edge/v1/{gatewayId}/heartbeat</c>, every <c>Agent:Heartbeat:IntervalSeconds</c>. Latest state
/// only: never journaled, never re-sent (a gateway offline for a day sends one on reconnect, not 1,440); the cloud keeps
/// the one with the newest <see cref="At"/>.
/// </summary>
/// <param name="GatewayId">The sender; the cloud refuses a heartbeat whose id is not its topic's.</param>
/// <param name="At">The gateway's clock when it built the heartbeat.</param>
/// <param name="AgentVersion">The agent's version.</param>
/// <param name="IntervalSeconds">How often the gateway sends one (so the cloud can tell a late one from a slow schedule).</param>
/// <param name="StartedAt">When the agent started.</param>
/// <param name="Backlog">Readings in the journal the cloud has not acknowledged.</param>
/// <param name="OldestUnsyncedAt">When the oldest of them was received; null when there is no backlog.</param>
/// <param name="Shed">Routine readings shed under the journal quota since the agent started.</param>
/// <param name="NotStored">Since the start, everything that left the gateway without reaching a store, by reason.</param>
/// <param name="CertificateNotAfter">The uplink certificate's expiry, when the agent knows it.</param>
/// <param name="ClockSynchronized">The gateway's clock is NTP-synchronized: true, false, or null (the agent cannot tell).</param>
/// <param name="SkewedDevices">Devices whose last reading's clock was beyond <c>Agent:Clock:MaxSkewSeconds</c>.</param>
/// <param name="MaxDeviceSkewSeconds">The largest of those devices' last skews (signed, device minus gateway); null when none.</param>
/// <param name="DevicesConnected">Devices connected to the gateway's broker now.</param>
public sealed record GatewayHeartbeat(
    string GatewayId,
    DateTimeOffset At,
    string AgentVersion,
    int IntervalSeconds,
    DateTimeOffset StartedAt,
    long Backlog,
    DateTimeOffset? OldestUnsyncedAt,
    long Shed,
    IReadOnlyDictionary<string, long> NotStored,
    DateTimeOffset? CertificateNotAfter,
    bool? ClockSynchronized,
    int SkewedDevices,
    double? MaxDeviceSkewSeconds,
    int DevicesConnected)
{
    /// <summary>The largest heartbeat the cloud accepts; a real one is about 600 bytes.</summary>
    public const int MaxBytes = 4096;

    /// <summary>Longest agent version string kept.</summary>
    public const int MaxVersionLength = 64;

    /// <summary>Most reasons in <see cref="NotStored"/>.</summary>
    public const int MaxNotStoredReasons = 16;

    /// <summary>The first thing wrong with a parsed heartbeat (field and reason), or null when it is acceptable.</summary>
    public string? Problem()
    {
        if (!UplinkTopics.IsValidGatewayId(GatewayId))
        {
            return "gatewayId: not a gateway id";
        }

        if (string.IsNullOrWhiteSpace(AgentVersion) || AgentVersion.Length > MaxVersionLength)
        {
            return $"agentVersion: 1 to {MaxVersionLength} characters";
        }

        if (IntervalSeconds is < 1 or > 86_400)
        {
            return "intervalSeconds: between 1 and 86400";
        }

        if (Backlog < 0 || Shed < 0 || SkewedDevices < 0 || DevicesConnected < 0)
        {
            return "backlog, shed, skewedDevices and devicesConnected: not negative";
        }

        if (NotStored.Count > MaxNotStoredReasons)
        {
            return $"notStored: at most {MaxNotStoredReasons} reasons";
        }

        foreach (var (reason, count) in NotStored)
        {
            if (reason.Length is 0 or > 64 || count < 0)
            {
                return "notStored: reasons of 1 to 64 characters with counts not negative";
            }
        }

        if (MaxDeviceSkewSeconds is { } skew && !double.IsFinite(skew))
        {
            return "maxDeviceSkewSeconds: a finite number";
        }

        return null;
    }
}

/// <summary>Source-generated JSON for the heartbeat (camelCase like the other uplink control messages; every property required).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(GatewayHeartbeat))]
public sealed partial class HeartbeatJsonContext : JsonSerializerContext;
