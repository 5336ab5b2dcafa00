namespace Edge.Api.Fleet;

/// <summary>A gateway's health from its latest heartbeat; null on a gateway before its first heartbeat.</summary>
/// <param name="LastHeartbeatAt">When the latest heartbeat reached the cloud (the cloud's clock, not the gateway's).</param>
/// <param name="Online">The latest heartbeat is at most <c>Api:Fleet:OfflineAfterSeconds</c> old.</param>
/// <param name="Backlog">Readings waiting in the gateway's journal for the cloud.</param>
/// <param name="OldestUnsyncedAt">When the oldest of them reached the gateway; null without a backlog.</param>
/// <param name="Shed">Routine readings shed under the journal quota since the agent started.</param>
/// <param name="CertificateNotAfter">When the gateway's uplink certificate expires.</param>
/// <param name="AgentVersion">The agent's version.</param>
/// <param name="ClockSynchronized">The gateway's clock is NTP-synchronized; null when the gateway cannot tell.</param>
/// <param name="DevicesConnected">Devices connected to the gateway when it sent the heartbeat.</param>
internal sealed record GatewayHealth(
    DateTimeOffset LastHeartbeatAt, bool Online, long Backlog, DateTimeOffset? OldestUnsyncedAt, long Shed,
    DateTimeOffset? CertificateNotAfter, string AgentVersion, bool? ClockSynchronized, int DevicesConnected);

/// <summary>Whether a device is connected to its gateway, as the gateway reported it.</summary>
/// <param name="State">online, offline, or unknown (its gateway never reported it).</param>
/// <param name="Since">When the device came online or went offline (the gateway's clock).</param>
/// <param name="LastReadingAt">The newest device time among its stored readings.</param>
internal sealed record DevicePresence(string State, DateTimeOffset? Since, DateTimeOffset? LastReadingAt)
{
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Unknown = "unknown";
}

/// <summary>One of a gateway's recent events (<c>GET /v1/gateways/{id}/events</c>), newest first.</summary>
/// <param name="Id">The gateway's id for the event.</param>
/// <param name="Type">device_presence, config_delivered, config_applied, config_rejected, config_on_site, firmware_delivered or firmware_progress.</param>
/// <param name="Serial">The device.</param>
/// <param name="At">When the gateway saw it (the gateway's clock).</param>
/// <param name="Status">Presence (online, offline) or firmware progress status.</param>
/// <param name="Version">Config version (config events).</param>
/// <param name="JobId">Firmware job (firmware events).</param>
/// <param name="Reason">Why a presence changed, a config was rejected or a firmware update failed.</param>
/// <param name="ReceivedAt">When the cloud recorded it.</param>
internal sealed record GatewayEventItem(
    long Id, string Type, string Serial, DateTimeOffset At, string? Status, int? Version, Guid? JobId, string? Reason, DateTimeOffset ReceivedAt);
