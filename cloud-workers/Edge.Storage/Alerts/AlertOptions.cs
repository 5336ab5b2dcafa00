using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Storage.Alerts;

/// <summary>
/// The thresholds alerts use when a device has no desired config (or is not registered), and the worker's threshold
/// cache (configuration section <c>Alerts</c>).
/// </summary>
/// <remarks>
/// The CPAP and ECG defaults are the seed config samples of docs/payloads.md, and the CPAP ones equal the agent's
/// <c>Agent:Lanes</c>, so a reading the gateway sent as urgent is the reading the cloud raises an alert for.
/// </remarks>
public sealed class AlertOptions
{
    public const string SectionName = "Alerts";

    /// <summary>CPAP/BiPAP leak above this (L/min) raises <c>cpap.leak_high</c>. Default 30 (the seed config's <c>alerts.leak_threshold</c>).</summary>
    [SettingRange(0, 200, ErrorMessage = "Alerts:CpapLeakThreshold must be between 0 and 200.")]
    public double CpapLeakThreshold { get; set; } = 30;

    /// <summary>CPAP/BiPAP respiratory rate below this (breaths/min) raises <c>cpap.rr_low</c>. Default 10 (the seed config's <c>alerts.rr_low</c>).</summary>
    [SettingRange(0, 80, ErrorMessage = "Alerts:CpapRrLow must be between 0 and 80.")]
    public double CpapRrLow { get; set; } = 10;

    /// <summary>CPAP/BiPAP respiratory rate above this (breaths/min) raises <c>cpap.rr_high</c>. Default 26 (the seed config's <c>alerts.rr_high</c>).</summary>
    [SettingRange(0, 80, ErrorMessage = "Alerts:CpapRrHigh must be between 0 and 80.")]
    public double CpapRrHigh { get; set; } = 26;

    /// <summary>
    /// Oxygen purity below this (%) raises <c>oxygen.purity_low</c>. Default 85. The oxygen config has no floor of its
    /// own, so this applies to every concentrator: concentrators are specified at about 93 % ± 3 %, and 85 % is where
    /// common oxygen-sensing concentrators switch on their own low-purity indicator, so it is clearly out of
    /// specification without firing on normal variation.
    /// </summary>
    [SettingRange(0, 100, ErrorMessage = "Alerts:OxygenPurityFloorPct must be between 0 and 100.")]
    public double OxygenPurityFloorPct { get; set; } = 85;

    /// <summary>ECG heart rate below this (bpm) raises <c>ecg.hr_low</c>. Default 40 (the seed config's <c>hr_low_bpm</c>).</summary>
    [SettingRange(0, 400, ErrorMessage = "Alerts:EcgHrLowBpm must be between 0 and 400.")]
    public double EcgHrLowBpm { get; set; } = 40;

    /// <summary>ECG heart rate above this (bpm) raises <c>ecg.hr_high</c>. Default 150 (the seed config's <c>hr_high_bpm</c>).</summary>
    [SettingRange(0, 400, ErrorMessage = "Alerts:EcgHrHighBpm must be between 0 and 400.")]
    public double EcgHrHighBpm { get; set; } = 150;

    /// <summary>
    /// A reading whose device time differs from its gateway's receive time by more than this (seconds, either way)
    /// raises <c>device_clock_skew</c>, once per device per UTC day. Default 300, the agent's
    /// <c>Agent:Clock:MaxSkewSeconds</c>, so the readings the gateway counts as skewed are the ones the cloud alerts on.
    /// </summary>
    [SettingRange(1, 86_400, ErrorMessage = "Alerts:DeviceClockSkewSeconds must be between 1 and 86400.")]
    public double DeviceClockSkewSeconds { get; set; } = 300;

    /// <summary>
    /// How long a device's thresholds are reused before the registry is asked again (seconds). Default 30: a config
    /// pushed by the API applies to alerts within this time, and a busy worker asks the registry about a device at most
    /// this often instead of once per batch.
    /// </summary>
    [SettingRange(0, 3600, ErrorMessage = "Alerts:ThresholdCacheSeconds must be between 0 and 3600.")]
    public int ThresholdCacheSeconds { get; set; } = 30;

    /// <summary>Devices whose thresholds one worker keeps in memory. Default 20000 (a few MB); when full the cache starts over.</summary>
    [SettingRange(1, 1_000_000, ErrorMessage = "Alerts:ThresholdCacheSize must be between 1 and 1000000.")]
    public int ThresholdCacheSize { get; set; } = 20_000;
}
