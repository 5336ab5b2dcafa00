using System.Text.Json.Serialization;

namespace Edge.Contracts.Payloads;

/// <summary>One reading a device publishes on <c>devices/{serial}/telemetry</c>; the serial's kind picks the concrete shape.</summary>
/// <remarks>The serializer lists derived properties first; the order attributes keep serial and timestamp leading, as devices send them.</remarks>
public abstract record Telemetry(
    [property: JsonPropertyName("serial"), JsonPropertyOrder(-2)] string Serial,
    [property: JsonPropertyName("timestamp"), JsonPropertyOrder(-1), JsonConverter(typeof(Rfc3339TimestampConverter))] DateTimeOffset Timestamp);

/// <summary>Telemetry of a CPAP or BiPAP machine (BiPAP firmware publishes the CPAP shape).</summary>
public sealed record CpapTelemetry(
    string Serial,
    DateTimeOffset Timestamp,
    [property: JsonPropertyName("metrics")] CpapMetrics Metrics,
    [property: JsonPropertyName("firmware")] string? Firmware = null) : Telemetry(Serial, Timestamp);

/// <summary>CPAP/BiPAP readings: pressure in cmH2O, breaths per minute, leak in L/min.</summary>
public sealed record CpapMetrics(
    [property: JsonPropertyName("pressure_cm_h2o")] double PressureCmH2O,
    [property: JsonPropertyName("respiratory_rate")] double RespiratoryRate,
    [property: JsonPropertyName("leak_rate_lpm")] double LeakRateLpm,
    [property: JsonPropertyName("patient_mode")] string? PatientMode = null);

/// <summary>Telemetry of an oxygen concentrator.</summary>
public sealed record OxygenTelemetry(
    string Serial,
    DateTimeOffset Timestamp,
    [property: JsonPropertyName("metrics")] OxygenMetrics Metrics,
    [property: JsonPropertyName("status")] string? Status = null) : Telemetry(Serial, Timestamp);

/// <summary>Oxygen concentrator readings: purity and battery in %, flow in L/min, temperature in °C.</summary>
public sealed record OxygenMetrics(
    [property: JsonPropertyName("oxygen_purity_pct")] double OxygenPurityPct,
    [property: JsonPropertyName("flow_rate_lpm")] double FlowRateLpm,
    [property: JsonPropertyName("temperature_c")] double TemperatureC,
    [property: JsonPropertyName("battery_pct")] double? BatteryPct = null,
    [property: JsonPropertyName("alarm_code")] string? AlarmCode = null);

/// <summary>Telemetry of an ECG recorder for one lead.</summary>
public sealed record EcgTelemetry(
    string Serial,
    DateTimeOffset Timestamp,
    [property: JsonPropertyName("metrics")] EcgMetrics Metrics,
    [property: JsonPropertyName("lead")] string Lead) : Telemetry(Serial, Timestamp);

/// <summary>
/// ECG readings: heart rate in beats per minute, QRS and QT intervals in milliseconds, and optionally the heart-rate
/// variability as RMSSD in milliseconds (firmware that does not compute it leaves it out).
/// </summary>
public sealed record EcgMetrics(
    [property: JsonPropertyName("heart_rate_bpm")] double HeartRateBpm,
    [property: JsonPropertyName("qrs_ms")] double QrsMs,
    [property: JsonPropertyName("qt_ms")] double QtMs,
    [property: JsonPropertyName("arrhythmia")] string Arrhythmia,
    [property: JsonPropertyName("signal_quality")] string SignalQuality,
    [property: JsonPropertyName("hrv_rmssd_ms")] double? HrvRmssdMs = null);
