using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Broker;

/// <summary>
/// How many failed CONNECTs (unknown serial or wrong secret) one address may make before its CONNECTs are refused
/// without checking a secret, until its window ends. A healthy clinic never gets near it: a device fails only while
/// its secret is wrong, and then retries a few times a minute at most.
/// </summary>
internal sealed class FailedConnectOptions
{
    public const string SectionName = "Agent:Broker:FailedConnects";

    /// <summary>Failed CONNECTs one address (an IPv6 /64) may make per window. Default 30.</summary>
    [SettingRange(1, 1_000_000, ErrorMessage = "Agent:Broker:FailedConnects:MaxPerAddress must be between 1 and 1000000.")]
    public int MaxPerAddress { get; set; } = 30;

    /// <summary>The window, in seconds, from an address's first failed CONNECT. Default 60.</summary>
    [SettingRange(1, 86_400, ErrorMessage = "Agent:Broker:FailedConnects:WindowSeconds must be between 1 and 86400.")]
    public int WindowSeconds { get; set; } = 60;
}
