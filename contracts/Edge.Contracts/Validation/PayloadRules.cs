using System.Globalization;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using static Edge.Contracts.Text.MessageText;

namespace Edge.Contracts.Validation;

/// <summary>The physical ranges and cross-field rules JSON types cannot carry; every broken rule is reported, not just the first.</summary>
/// <remarks>The numbers here are the ones in docs/payloads.md and docs/schemas/v1; a change goes to all three.</remarks>
internal static class PayloadRules
{
    public static readonly string[] SignalQualities = ["good", "fair", "poor"];
    public static readonly string[] EcgLeads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];
    public static readonly int[] EcgSamplingRatesHz = [250, 500, 1000];

    public const int MaxAlerts = 32;
    public const int MaxAlertLength = 128;
    public const int MaxReportIdLength = 64;
    public const int MaxS3UrlLength = 1024;

    public static void CpapTelemetry(CpapTelemetry t, SerialNumber serial, ref ErrorList e)
    {
        TelemetryHeader(t, serial, ref e);
        var m = t.Metrics;
        Range(ref e, "metrics.pressure_cm_h2o", m.PressureCmH2O, 0, 40);
        Range(ref e, "metrics.respiratory_rate", m.RespiratoryRate, 0, 80);
        Range(ref e, "metrics.leak_rate_lpm", m.LeakRateLpm, 0, 200);
        Text(ref e, "metrics.patient_mode", m.PatientMode, 0, 32);
        Text(ref e, "firmware", t.Firmware, 0, 32);
    }

    public static void OxygenTelemetry(OxygenTelemetry t, SerialNumber serial, ref ErrorList e)
    {
        TelemetryHeader(t, serial, ref e);
        var m = t.Metrics;
        Range(ref e, "metrics.oxygen_purity_pct", m.OxygenPurityPct, 0, 100);
        Range(ref e, "metrics.flow_rate_lpm", m.FlowRateLpm, 0, 15);
        Range(ref e, "metrics.temperature_c", m.TemperatureC, -20, 80);
        if (m.BatteryPct is { } battery)
        {
            Range(ref e, "metrics.battery_pct", battery, 0, 100);
        }
        Text(ref e, "metrics.alarm_code", m.AlarmCode, 1, 32);
        Text(ref e, "status", t.Status, 0, 32);
    }

    public static void EcgTelemetry(EcgTelemetry t, SerialNumber serial, ref ErrorList e)
    {
        TelemetryHeader(t, serial, ref e);
        var m = t.Metrics;
        Range(ref e, "metrics.heart_rate_bpm", m.HeartRateBpm, 0, 400);
        Range(ref e, "metrics.qrs_ms", m.QrsMs, 0, 400);
        Range(ref e, "metrics.qt_ms", m.QtMs, 0, 1000);
        if (m.HrvRmssdMs is { } rmssd)
        {
            Range(ref e, "metrics.hrv_rmssd_ms", rmssd, 0, 300);
        }
        Text(ref e, "metrics.arrhythmia", m.Arrhythmia, 1, 64);
        OneOf(ref e, "metrics.signal_quality", m.SignalQuality, SignalQualities);
        OneOf(ref e, "lead", t.Lead, EcgLeads);
    }

    public static void CpapConfig(CpapConfigMessage c, SerialNumber serial, ref ErrorList e)
    {
        ConfigHeader(c, serial, ref e);
        var config = c.Config;
        Range(ref e, "config.target_pressure", config.TargetPressure, 4, 30);
        Range(ref e, "config.humidity_level", config.HumidityLevel, 0, 8);
        var alerts = config.Alerts;
        Range(ref e, "config.alerts.leak_threshold", alerts.LeakThreshold, 0, 200);
        var lowOk = Range(ref e, "config.alerts.rr_low", alerts.RrLow, 0, 80);
        var highOk = Range(ref e, "config.alerts.rr_high", alerts.RrHigh, 0, 80);
        if (lowOk && highOk && alerts.RrLow >= alerts.RrHigh)
        {
            e.Add("config.alerts.rr_low", Invariant($"must be less than rr_high ({alerts.RrHigh}) (was {alerts.RrLow})"));
        }
    }

    public static void OxygenConfig(OxygenConfigMessage c, SerialNumber serial, ref ErrorList e)
    {
        ConfigHeader(c, serial, ref e);
        var config = c.Config;
        Range(ref e, "config.flow_rate_lpm", config.FlowRateLpm, 0, 15);
        var year = config.MaintenanceDueDate.Year;
        if (year is < WireTime.MinYear or > WireTime.MaxYear)
        {
            e.Add("config.maintenance_due_date", Invariant($"year must be between {WireTime.MinYear} and {WireTime.MaxYear} (was {year})"));
        }
    }

    public static void EcgConfig(EcgConfigMessage c, SerialNumber serial, ref ErrorList e)
    {
        ConfigHeader(c, serial, ref e);
        var config = c.Config;
        var lowOk = Range(ref e, "config.hr_low_bpm", config.HrLowBpm, 20, 150);
        var highOk = Range(ref e, "config.hr_high_bpm", config.HrHighBpm, 60, 300);
        if (lowOk && highOk && config.HrLowBpm >= config.HrHighBpm)
        {
            e.Add("config.hr_low_bpm", Invariant($"must be less than hr_high_bpm ({config.HrHighBpm}) (was {config.HrLowBpm})"));
        }
        if (Array.IndexOf(EcgSamplingRatesHz, config.SamplingRateHz) < 0)
        {
            e.Add("config.sampling_rate_hz", Invariant($"must be one of 250, 500, 1000 (was {config.SamplingRateHz})"));
        }
        OneOf(ref e, "config.lead", config.Lead, EcgLeads);
    }

    public static void EcgReport(EcgReportMessage r, SerialNumber serial, ref ErrorList e)
    {
        SameSerial(ref e, r.Serial, serial);
        var report = r.Report;
        if (!IsReportId(report.ReportId))
        {
            e.Add("report.report_id", $"must be 1 to {MaxReportIdLength} of A-Z, a-z, 0-9, '_' or '-' (was '{Quote(report.ReportId)}')");
        }
        if (report.S3Url is { } url && !IsS3Url(url))
        {
            e.Add("report.s3_url", $"must be s3://bucket/key, at most {MaxS3UrlLength} characters (was '{Quote(url)}')");
        }

        var s = report.Summary;
        var avgOk = Range(ref e, "report.summary.avg_hr", s.AvgHr, 0, 400);
        var maxOk = Range(ref e, "report.summary.max_hr", s.MaxHr, 0, 400);
        var minOk = Range(ref e, "report.summary.min_hr", s.MinHr, 0, 400);
        if (minOk && maxOk && s.MinHr > s.MaxHr)
        {
            e.Add("report.summary.min_hr", Invariant($"must not exceed max_hr ({s.MaxHr}) (was {s.MinHr})"));
        }
        else if (minOk && maxOk && avgOk && (s.AvgHr < s.MinHr || s.AvgHr > s.MaxHr))
        {
            e.Add("report.summary.avg_hr", Invariant($"must be between min_hr ({s.MinHr}) and max_hr ({s.MaxHr}) (was {s.AvgHr})"));
        }

        var alerts = s.Alerts;
        if (alerts.Count > MaxAlerts)
        {
            e.Add("report.summary.alerts", Invariant($"must have at most {MaxAlerts} items (was {alerts.Count})"));
            return;
        }
        for (var i = 0; i < alerts.Count; i++)
        {
            // Null items get past the serializer (nullable annotations cover properties, not list items).
            var alert = alerts[i];
            if (alert is null)
            {
                e.Add(Invariant($"report.summary.alerts[{i}]"), "must not be null");
            }
            else if (alert.Length is 0 or > MaxAlertLength)
            {
                e.Add(Invariant($"report.summary.alerts[{i}]"), Invariant($"must be 1 to {MaxAlertLength} characters (was {alert.Length})"));
            }
        }
    }

    private static void TelemetryHeader(Telemetry t, SerialNumber serial, ref ErrorList e)
    {
        SameSerial(ref e, t.Serial, serial);
        var year = t.Timestamp.Year;
        if (year is < WireTime.MinYear or > WireTime.MaxYear)
        {
            e.Add("timestamp", Invariant($"year must be between {WireTime.MinYear} and {WireTime.MaxYear} (was {year})"));
        }
    }

    private static void ConfigHeader(DeviceConfigMessage c, SerialNumber serial, ref ErrorList e)
    {
        SameSerial(ref e, c.Serial, serial);
        if (c.Version is < 1)
        {
            e.Add("version", Invariant($"must be at least 1 (was {c.Version})"));
        }
    }

    private static void SameSerial(ref ErrorList e, string payloadSerial, SerialNumber serial)
    {
        if (!string.Equals(payloadSerial, serial.Value, StringComparison.Ordinal))
        {
            e.Add("serial", $"must match the topic's serial '{serial.Value}' (was '{Quote(payloadSerial)}')");
        }
    }

    private static bool Range(ref ErrorList e, string field, double value, double min, double max)
    {
        // Written so NaN fails too: every comparison with NaN is false.
        if (value >= min && value <= max)
        {
            return true;
        }
        e.Add(field, double.IsFinite(value) ? Invariant($"must be between {min} and {max} (was {value})") : "must be a finite number");
        return false;
    }

    private static bool Range(ref ErrorList e, string field, int value, int min, int max)
    {
        if (value >= min && value <= max)
        {
            return true;
        }
        e.Add(field, Invariant($"must be between {min} and {max} (was {value})"));
        return false;
    }

    // Null passes: required text is already non-null once deserialized, and optional text may be absent.
    private static void Text(ref ErrorList e, string field, string? value, int min, int max)
    {
        if (value is null || (value.Length >= min && value.Length <= max))
        {
            return;
        }
        e.Add(field, min == 0
            ? Invariant($"must be at most {max} characters (was {value.Length})")
            : Invariant($"must be {min} to {max} characters (was {value.Length})"));
    }

    private static void OneOf(ref ErrorList e, string field, string value, string[] allowed)
    {
        if (Array.IndexOf(allowed, value) < 0)
        {
            e.Add(field, $"must be one of {string.Join(", ", allowed)} (was '{Quote(value)}')");
        }
    }

    private static bool IsReportId(string id)
    {
        if (id.Length is 0 or > MaxReportIdLength)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsS3Url(string url)
    {
        const string scheme = "s3://";
        if (url.Length > MaxS3UrlLength || !url.StartsWith(scheme, StringComparison.Ordinal))
        {
            return false;
        }
        // A bucket, a '/', then a key: "s3://" alone or "s3://bucket" names no object.
        var slash = url.IndexOf('/', scheme.Length);
        return slash > scheme.Length && slash < url.Length - 1;
    }
}
