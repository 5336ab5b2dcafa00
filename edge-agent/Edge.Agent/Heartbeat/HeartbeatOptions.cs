using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Heartbeat;

/// <summary>How often the gateway tells the cloud how it is (<c>edge/v1/{gatewayId}/heartbeat</c>).</summary>
internal sealed class HeartbeatOptions
{
    public const string SectionName = "Agent:Heartbeat";

    /// <summary>
    /// Seconds between heartbeats while the uplink is up (one is also sent right after each connect). Default 60: the
    /// cloud shows a gateway offline after <c>Api:Fleet:OfflineAfterSeconds</c> (180) without one, so keep it well under that.
    /// </summary>
    [SettingRange(1, 3600, ErrorMessage = "Agent:Heartbeat:IntervalSeconds must be between 1 and 3600.")]
    public int IntervalSeconds { get; set; } = 60;
}
