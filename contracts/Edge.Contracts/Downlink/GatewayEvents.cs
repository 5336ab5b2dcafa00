using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Downlink;

/// <summary>
/// One change of a device's state that the gateway reports on <c>edge/v1/{gatewayId}/events</c>. Events are kept in the
/// gateway's journal database until the cloud acknowledges them (<see cref="EventsAck"/>), so they survive outages and
/// restarts and may arrive more than once: the cloud applies each idempotently.
/// </summary>
/// <param name="Id">Per-gateway increasing id (the order in which the gateway saw the changes).</param>
/// <param name="Type">One of the <c>*</c> constants below.</param>
/// <param name="Serial">The device.</param>
/// <param name="At">When the gateway saw the change.</param>
/// <param name="Version">Config version (config events).</param>
/// <param name="Reason">Why a config was rejected or a firmware update failed.</param>
/// <param name="BaseVersion">The cloud version an on-site config replaced (<see cref="ConfigOnSite"/>).</param>
/// <param name="Config">The on-site config message (<see cref="ConfigOnSite"/>).</param>
/// <param name="Actor">Who pushed an on-site config (the admin socket's caller).</param>
/// <param name="JobId">Firmware job (firmware events).</param>
/// <param name="Status">Firmware progress status, or a device's presence (<see cref="Online"/> or <see cref="Offline"/>).</param>
/// <param name="Percent">Firmware download progress, when the device reports one.</param>
public sealed record GatewayEvent(
    long Id,
    string Type,
    string Serial,
    DateTimeOffset At,
    int? Version = null,
    string? Reason = null,
    int? BaseVersion = null,
    JsonElement? Config = null,
    string? Actor = null,
    Guid? JobId = null,
    string? Status = null,
    int? Percent = null)
{
    /// <summary>The gateway stored the desired config and published it (retained) to the device.</summary>
    public const string ConfigDelivered = "config_delivered";

    /// <summary>The device acknowledged the version as applied.</summary>
    public const string ConfigApplied = "config_applied";

    /// <summary>The device refused the version; <see cref="Reason"/> says why.</summary>
    public const string ConfigRejected = "config_rejected";

    /// <summary>A technician pushed a config through the agent's admin socket (no cloud access on site).</summary>
    public const string ConfigOnSite = "config_on_site";

    /// <summary>The gateway stored the firmware offer and published it (retained) to the device.</summary>
    public const string FirmwareDelivered = "firmware_delivered";

    /// <summary>The device reported progress; <see cref="Status"/> is downloading, installing, done or failed.</summary>
    public const string FirmwareProgressed = "firmware_progress";

    /// <summary>
    /// The device came online or went offline (<see cref="Status"/>); <see cref="At"/> is when it happened and
    /// <see cref="Reason"/> how the gateway knows (one of <see cref="PresenceReasons"/>).
    /// </summary>
    public const string DevicePresence = "device_presence";

    /// <summary>Presence status: connected to the gateway's broker.</summary>
    public const string Online = "online";

    /// <summary>Presence status: not connected (disconnected, its last will, or not back after the agent restarted).</summary>
    public const string Offline = "offline";
}

/// <summary>How the gateway learned of a presence change (the <c>reason</c> of a <see cref="GatewayEvent.DevicePresence"/> event).</summary>
public static class PresenceReasons
{
    /// <summary>The device connected.</summary>
    public const string Connected = "connected";

    /// <summary>The device sent DISCONNECT.</summary>
    public const string Disconnected = "disconnected";

    /// <summary>The connection dropped without DISCONNECT (keep-alive timeout, socket closed): the broker published its last will.</summary>
    public const string ConnectionLost = "connection_lost";

    /// <summary>The agent restarted and the device had not reconnected within the debounce time.</summary>
    public const string AgentRestarted = "agent_restarted";

    public static readonly string[] All = [Connected, Disconnected, ConnectionLost, AgentRestarted];
}

/// <summary>The payload of <c>edge/v1/{gatewayId}/events</c>: the oldest unacknowledged events, in id order.</summary>
public sealed record GatewayEventBatch(string GatewayId, IReadOnlyList<GatewayEvent> Events)
{
    /// <summary>Most events in one publish (keeps a batch far below any broker's packet limit).</summary>
    public const int MaxEvents = 100;
}

/// <summary>The cloud's answer on <c>edge/v1/{gatewayId}/events/ack</c>: these events are recorded; forget them.</summary>
public sealed record EventsAck(string GatewayId, IReadOnlyList<long> Ids);

/// <summary>Source-generated JSON for gateway events (camelCase like the other uplink control messages).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GatewayEvent))]
[JsonSerializable(typeof(GatewayEventBatch))]
[JsonSerializable(typeof(EventsAck))]
public sealed partial class GatewayEventsJsonContext : JsonSerializerContext;
