namespace Edge.Contracts.Tests;

/// <summary>The six seed payloads, verbatim from the product brief; docs/payloads.md and Samples/valid carry the same text.</summary>
public static class Seeds
{
    public const string CpapTelemetry = """{"serial":"CPAP-2301-9912","timestamp":"2025-11-24T10:15:32Z","metrics":{"pressure_cm_h2o":12.4,"respiratory_rate":18,"leak_rate_lpm":24.1,"patient_mode":"AutoCPAP"},"firmware":"v4.2.1"}""";
    public const string CpapConfig = """{"serial":"CPAP-2301-9912","config":{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}}""";
    public const string OxygenTelemetry = """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null},"status":"online"}""";
    public const string OxygenConfig = """{"serial":"OXY-8844-5521","config":{"flow_rate_lpm":3.0,"night_mode":true,"maintenance_due_date":"2026-01-15"}}""";
    public const string EcgTelemetry = """{"serial":"ECG-7711-0045","timestamp":"2025-11-24T10:30:11Z","metrics":{"heart_rate_bpm":78,"qrs_ms":92,"qt_ms":380,"arrhythmia":"none","signal_quality":"good"},"lead":"II"}""";
    public const string EcgReport = """{"serial":"ECG-7711-0045","report":{"report_id":"rpt_893445","s3_url":"s3://ecg-reports/2025/11/24/rpt_893445.pdf","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";

    /// <summary>Our ECG config design (not a brief seed), as documented in docs/payloads.md.</summary>
    public const string EcgConfig = """{"serial":"ECG-7711-0045","version":3,"config":{"hr_low_bpm":40,"hr_high_bpm":150,"sampling_rate_hz":500,"lead":"II"}}""";

    public static TheoryData<string, string> All => new()
    {
        { "cpap-telemetry.json", CpapTelemetry },
        { "cpap-config.json", CpapConfig },
        { "oxygen-telemetry.json", OxygenTelemetry },
        { "oxygen-config.json", OxygenConfig },
        { "ecg-telemetry.json", EcgTelemetry },
        { "ecg-report.json", EcgReport },
    };
}
