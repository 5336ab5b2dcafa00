using System.Text.Json.Serialization;

namespace Edge.Contracts.Payloads;

/// <summary>A desired configuration, retained on <c>devices/{serial}/config</c>; the serial's kind picks the concrete shape.</summary>
/// <remarks>
/// <see cref="Version"/> is set by the cloud (1, 2, …) so a device can acknowledge which config it applied. The order
/// attributes keep serial and version ahead of the derived config when written.
/// </remarks>
public abstract record DeviceConfigMessage(
    [property: JsonPropertyName("serial"), JsonPropertyOrder(-2)] string Serial,
    [property: JsonPropertyName("version"), JsonPropertyOrder(-1)] int? Version);

/// <summary>Desired configuration of a CPAP or BiPAP machine.</summary>
public sealed record CpapConfigMessage(
    string Serial,
    [property: JsonPropertyName("config")] CpapConfig Config,
    int? Version = null) : DeviceConfigMessage(Serial, Version);

/// <summary>CPAP/BiPAP settings: target pressure in cmH2O and humidifier level 0–8.</summary>
public sealed record CpapConfig(
    [property: JsonPropertyName("target_pressure")] double TargetPressure,
    [property: JsonPropertyName("humidity_level")] int HumidityLevel,
    [property: JsonPropertyName("alerts")] CpapAlerts Alerts);

/// <summary>CPAP/BiPAP alert thresholds: leak in L/min, respiratory-rate band in breaths per minute.</summary>
public sealed record CpapAlerts(
    [property: JsonPropertyName("leak_threshold")] double LeakThreshold,
    [property: JsonPropertyName("rr_low")] int RrLow,
    [property: JsonPropertyName("rr_high")] int RrHigh);

/// <summary>Desired configuration of an oxygen concentrator.</summary>
public sealed record OxygenConfigMessage(
    string Serial,
    [property: JsonPropertyName("config")] OxygenConfig Config,
    int? Version = null) : DeviceConfigMessage(Serial, Version);

/// <summary>Oxygen concentrator settings: flow in L/min, night mode, and the next maintenance date.</summary>
public sealed record OxygenConfig(
    [property: JsonPropertyName("flow_rate_lpm")] double FlowRateLpm,
    [property: JsonPropertyName("night_mode")] bool NightMode,
    [property: JsonPropertyName("maintenance_due_date"), JsonConverter(typeof(IsoDateConverter))] DateOnly MaintenanceDueDate);

/// <summary>Desired configuration of an ECG recorder.</summary>
public sealed record EcgConfigMessage(
    string Serial,
    [property: JsonPropertyName("config")] EcgConfig Config,
    int? Version = null) : DeviceConfigMessage(Serial, Version);

/// <summary>ECG recorder settings: heart-rate alarm band in bpm, sampling rate (250, 500 or 1000 Hz), and the lead to stream.</summary>
public sealed record EcgConfig(
    [property: JsonPropertyName("hr_low_bpm")] int HrLowBpm,
    [property: JsonPropertyName("hr_high_bpm")] int HrHighBpm,
    [property: JsonPropertyName("sampling_rate_hz")] int SamplingRateHz,
    [property: JsonPropertyName("lead")] string Lead);
