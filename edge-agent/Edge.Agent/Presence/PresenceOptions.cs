using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Presence;

/// <summary>How the agent turns device connections into presence events for the cloud.</summary>
internal sealed class PresenceOptions
{
    public const string SectionName = "Agent:Presence";

    /// <summary>
    /// A device that went offline is reported offline only if it has not reconnected within this many seconds, so a
    /// flapping link or a quick reconnect (and the agent's own restart) produces no offline/online pair. 0 reports every
    /// disconnect at once. Default 10.
    /// </summary>
    [SettingRange(0, 3600, ErrorMessage = "Agent:Presence:DebounceSeconds must be between 0 and 3600.")]
    public int DebounceSeconds { get; set; } = 10;
}
