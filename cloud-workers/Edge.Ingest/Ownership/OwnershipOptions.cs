using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Ingest.Ownership;

/// <summary>Which readings the worker accepts from which gateway, and how long it holds the others (section <c>Ingest:Ownership</c>).</summary>
internal sealed class OwnershipOptions
{
    public const string SectionName = "Ingest:Ownership";

    /// <summary>
    /// Seconds a cached registry answer (a device's gateway and status, a gateway's status) is used before it is read
    /// again, even when no change was notified; also how often quarantined readings are checked for release without a
    /// notification. A safety net only: changes arrive by notification within milliseconds. Default 60.
    /// </summary>
    [SettingRange(1, 3600, ErrorMessage = "Ingest:Ownership:RefreshSeconds must be between 1 and 3600.")]
    public int RefreshSeconds { get; set; } = 60;

    /// <summary>
    /// Days a quarantined reading waits for its device to be registered to the gateway that sent it; older ones are
    /// deleted by the daily maintenance. Default 7.
    /// </summary>
    [SettingRange(1, 365, ErrorMessage = "Ingest:Ownership:QuarantineDays must be between 1 and 365.")]
    public int QuarantineDays { get; set; } = 7;

    /// <summary>Registry entries the cache holds at most before it starts over (unknown serials are cached too). Default 100,000.</summary>
    [SettingRange(100, 10_000_000, ErrorMessage = "Ingest:Ownership:CacheSize must be between 100 and 10000000.")]
    public int CacheSize { get; set; } = 100_000;

    public TimeSpan Refresh => TimeSpan.FromSeconds(RefreshSeconds);

    public TimeSpan QuarantineWindow => TimeSpan.FromDays(QuarantineDays);
}
