using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Api.Fleet;

/// <summary>How the API judges a gateway's health.</summary>
internal sealed class FleetOptions
{
    public const string SectionName = "Api:Fleet";

    /// <summary>
    /// A gateway whose last heartbeat reached the cloud more than this many seconds ago is shown offline
    /// (<c>health.online</c>). Default 180: three of the agent's default 60-second heartbeats missed.
    /// </summary>
    [SettingRange(10, 86_400, ErrorMessage = "Api:Fleet:OfflineAfterSeconds must be between 10 and 86400.")]
    public int OfflineAfterSeconds { get; set; } = 180;
}
