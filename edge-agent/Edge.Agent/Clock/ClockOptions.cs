using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Clock;

/// <summary>How the agent compares a device's clock with its own.</summary>
internal sealed class ClockOptions
{
    public const string SectionName = "Agent:Clock";

    /// <summary>
    /// A reading whose device time differs from the gateway's receive time by more than this is stored and flagged as
    /// skewed: counted per device, shown in <c>edgectl agent status</c>. Default 300 (5 minutes).
    /// </summary>
    [SettingRange(1, 86_400, ErrorMessage = "Agent:Clock:MaxSkewSeconds must be between 1 and 86400.")]
    public int MaxSkewSeconds { get; set; } = 300;

    /// <summary>
    /// A reading dated further ahead of the gateway's clock than this is refused (dead-lettered with the reason), while
    /// the gateway's own clock is trusted (<see cref="TrustGatewayClock"/>). Default 86400 (a day): a time zone or
    /// daylight-saving mistake is stored and flagged, a clock set to next year is not.
    /// </summary>
    [SettingRange(60, 31_536_000, ErrorMessage = "Agent:Clock:MaxAheadSeconds must be between 60 and 31536000.")]
    public int MaxAheadSeconds { get; set; } = 86_400;

    /// <summary>
    /// When the gateway's clock is good enough to refuse readings by: <c>auto</c> (default) while the kernel says it is
    /// synchronized (NTP), <c>always</c>, or <c>never</c> (readings are only flagged). A gateway that booted without a
    /// real-time clock and has not reached its time server would otherwise refuse every correct reading as "future".
    /// </summary>
    [RegularExpression("^(auto|always|never)$", ErrorMessage = "Agent:Clock:TrustGatewayClock must be auto, always or never.")]
    public string TrustGatewayClock { get; set; } = "auto";
}
