using Edge.Contracts.Devices;
using Edge.Storage.Queries;

namespace Edge.Api.Fhir;

/// <summary>One metric of a reading as a FHIR code: LOINC where LOINC has one, IEEE 11073 MDC otherwise, else our own.</summary>
/// <param name="Metric">The payload's metric name (<see cref="ReadingMetrics"/>), or a non-numeric field (arrhythmia, lead).</param>
/// <param name="Loinc">The LOINC code, when one exists for what the device measures.</param>
/// <param name="Mdc">The IEEE 11073-10101 code (numeric) and its reference id, when one exists.</param>
/// <param name="Display">What it is, as the coding's display.</param>
/// <param name="Ucum">The UCUM unit of the value; null for a text value.</param>
/// <param name="Source">Where the code comes from, for docs/fhir.md.</param>
internal sealed record MetricCode(string Metric, string? Loinc, (string Code, string RefId)? Mdc, string Display, string? Ucum, string Source);

/// <summary>
/// The one mapping from reading fields to FHIR codes (docs/fhir.md prints the same table). A reading is one Observation
/// (a panel) whose components are these codes; the panel's own code is per device kind.
/// </summary>
internal static class ObservationCodes
{
    public const string LoincSystem = "http://loinc.org";
    public const string MdcSystem = "urn:iso:std:iso:11073:10101";
    public const string UcumSystem = "http://unitsofmeasure.org";

    /// <summary>Codes of our own for what neither LOINC nor MDC names (a concentrator's internal temperature, a CPAP reading panel).</summary>
    public const string EdgeSystem = "https://clinic-edge.example/fhir/CodeSystem/reading";

    /// <summary>The panel code of a reading of each kind: our own code, plus LOINC's "EKG study" for ECG.</summary>
    public static (string Code, string Display, string? Loinc, string? LoincDisplay) Panel(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => ("cpap-reading", "CPAP therapy reading", null, null),
        DeviceKind.Bipap => ("bipap-reading", "BiPAP therapy reading", null, null),
        DeviceKind.Oxygen => ("oxygen-concentrator-reading", "Oxygen concentrator reading", null, null),
        DeviceKind.Ecg => ("ecg-reading", "ECG reading, one lead", "11524-6", "EKG study"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    // Sources: LOINC codes as published by Regenstrief (loinc.org); MDC codes from IEEE 11073-10101 as listed in NIST's
    // RTMMS and used by HL7's Point-of-Care Device IG. Rows without either are our own codes (EdgeSystem).
    private static readonly MetricCode[] Cpap =
    [
        new(ReadingMetrics.PressureCmH2O, null, ("151792", "MDC_PRESS_AWAY"), "Airway pressure", "cm[H2O]", "IEEE 11073-10101 MDC_PRESS_AWAY; no LOINC code for a measured CPAP pressure"),
        new(ReadingMetrics.RespiratoryRate, "9279-1", ("151562", "MDC_RESP_RATE"), "Respiratory rate", "/min", "LOINC 9279-1; IEEE 11073-10101 MDC_RESP_RATE"),
        new(ReadingMetrics.LeakRateLpm, null, ("151576", "MDC_FLOW_AWAY_LEAK"), "Leak flow rate", "L/min", "IEEE 11073-10101 MDC_FLOW_AWAY_LEAK; no LOINC code"),
    ];

    private static readonly MetricCode[] Oxygen =
    [
        new(ReadingMetrics.OxygenPurityPct, "3150-0", null, "Inhaled oxygen concentration", "%", "LOINC 3150-0 (the O2 fraction of the gas the concentrator delivers)"),
        new(ReadingMetrics.FlowRateLpm, "3151-8", null, "Inhaled oxygen flow rate", "L/min", "LOINC 3151-8"),
        new(ReadingMetrics.TemperatureC, null, null, "Device internal temperature", "Cel", "own code: a device's own temperature is neither a LOINC nor an MDC patient observation"),
        new(ReadingMetrics.BatteryPct, null, null, "Device battery charge", "%", "own code: no LOINC code; FHIR R4 has no battery element on Device"),
    ];

    private static readonly MetricCode[] Ecg =
    [
        new(ReadingMetrics.HeartRateBpm, "8867-4", ("147842", "MDC_ECG_HEART_RATE"), "Heart rate", "/min", "LOINC 8867-4; IEEE 11073-10101 MDC_ECG_HEART_RATE"),
        new(ReadingMetrics.QrsMs, "8633-0", null, "QRS duration", "ms", "LOINC 8633-0"),
        new(ReadingMetrics.QtMs, "8634-8", ("147232", "MDC_ECG_TIME_PD_QT_GL"), "Q-T interval", "ms", "LOINC 8634-8; IEEE 11073-10101 MDC_ECG_TIME_PD_QT_GL"),
        new(ReadingMetrics.HrvRmssdMs, null, null, "Heart rate variability, RMSSD", "ms", "own code: LOINC's HRV code 80404-7 is the SDNN, not the RMSSD the devices send"),
        new("arrhythmia", null, null, "Rhythm finding", null, "own code: the recorder's own words for its finding, not a coded rhythm"),
        new("signal_quality", null, null, "ECG signal quality", null, "own code"),
        new("lead", null, null, "ECG lead", null, "own code"),
    ];

    /// <summary>The components of a reading of <paramref name="kind"/>, in payload order.</summary>
    public static IReadOnlyList<MetricCode> For(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap or DeviceKind.Bipap => Cpap,
        DeviceKind.Oxygen => Oxygen,
        DeviceKind.Ecg => Ecg,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    /// <summary>Every kind with its components, for the CapabilityStatement and the docs.</summary>
    public static IReadOnlyList<DeviceKind> Kinds { get; } = [DeviceKind.Cpap, DeviceKind.Bipap, DeviceKind.Oxygen, DeviceKind.Ecg];

    /// <summary>Whether a code (system may be null: any) names the panel of <paramref name="kind"/>.</summary>
    public static bool PanelMatches(DeviceKind kind, string? system, string code)
    {
        var panel = Panel(kind);
        return (system is null or EdgeSystem && panel.Code == code) || (system is null or LoincSystem && panel.Loinc == code);
    }

    /// <summary>The metric of <paramref name="kind"/> whose component a code names, or null.</summary>
    public static MetricCode? ComponentMatching(DeviceKind kind, string? system, string code)
    {
        foreach (var metric in For(kind))
        {
            if ((system is null or LoincSystem && metric.Loinc == code)
                || (system is null or MdcSystem && metric.Mdc?.Code == code)
                || (system is null or EdgeSystem && metric.Metric == code))
            {
                return metric;
            }
        }
        return null;
    }
}
