using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Ingest;

/// <summary>What makes a reading urgent when the device has no configuration pushed yet.</summary>
internal sealed class LaneOptions
{
    public const string SectionName = "Agent:Lanes";

    /// <summary>CPAP leak above this (L/min) is urgent. Default 30, the seed configuration's value.</summary>
    [SettingRange(0, 200, ErrorMessage = "Agent:Lanes:CpapLeakThreshold must be between 0 and 200.")]
    public double CpapLeakThreshold { get; set; } = 30;

    /// <summary>CPAP respiratory rate below this is urgent. Default 10.</summary>
    [SettingRange(0, 80, ErrorMessage = "Agent:Lanes:CpapRrLow must be between 0 and 80.")]
    public double CpapRrLow { get; set; } = 10;

    /// <summary>CPAP respiratory rate above this is urgent. Default 26.</summary>
    [SettingRange(0, 80, ErrorMessage = "Agent:Lanes:CpapRrHigh must be between 0 and 80.")]
    public double CpapRrHigh { get; set; } = 26;
}
