using System.Text;
using Edge.Contracts.Devices;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Tests;

/// <summary>The v1 payload kinds, each with one schema file: the seven seed shapes and the config/firmware replies.</summary>
public enum PayloadKind
{
    CpapTelemetry,
    OxygenTelemetry,
    EcgTelemetry,
    CpapConfig,
    OxygenConfig,
    EcgConfig,
    EcgReport,
    ConfigAck,
    FirmwareOffer,
    FirmwareProgress,
}

/// <summary>One file under Samples/: its payload kind, and for an invalid one the field the validator must blame.</summary>
public sealed record Sample(string File, PayloadKind Kind, string? ExpectedField)
{
    public bool IsValid => ExpectedField is null;

    public string FullPath => Path.Combine(AppContext.BaseDirectory, "Samples", IsValid ? "valid" : "invalid", File);
}

/// <summary>
/// Every sample file and what the tests expect of it. A file without an entry here (or an entry without a file) fails
/// <see cref="SchemaAgreementTests.Every_sample_file_has_a_catalog_entry_and_every_entry_has_a_file"/>.
/// </summary>
public static class SampleCatalog
{
    public static readonly IReadOnlyList<Sample> All =
    [
        // Valid: the six seed payloads verbatim, the ECG config we designed, and shapes the seeds do not show.
        Valid("cpap-telemetry.json", PayloadKind.CpapTelemetry),
        Valid("cpap-config.json", PayloadKind.CpapConfig),
        Valid("oxygen-telemetry.json", PayloadKind.OxygenTelemetry),
        Valid("oxygen-config.json", PayloadKind.OxygenConfig),
        Valid("ecg-telemetry.json", PayloadKind.EcgTelemetry),
        Valid("ecg-report.json", PayloadKind.EcgReport),
        Valid("ecg-config.json", PayloadKind.EcgConfig),
        Valid("bipap-telemetry.json", PayloadKind.CpapTelemetry),
        Valid("bipap-config-with-version.json", PayloadKind.CpapConfig),
        Valid("cpap-telemetry-required-fields-only.json", PayloadKind.CpapTelemetry),
        Valid("cpap-telemetry-offset-and-fraction.json", PayloadKind.CpapTelemetry),
        Valid("oxygen-telemetry-unknown-fields.json", PayloadKind.OxygenTelemetry),
        Valid("oxygen-telemetry-alarm-on-battery-absent.json", PayloadKind.OxygenTelemetry),
        Valid("ecg-telemetry-lead-avr.json", PayloadKind.EcgTelemetry),
        Valid("ecg-report-without-s3-url.json", PayloadKind.EcgReport),

        Invalid("cpap-pressure-over-40.json", PayloadKind.CpapTelemetry, "metrics.pressure_cm_h2o"),
        Invalid("cpap-respiratory-rate-negative.json", PayloadKind.CpapTelemetry, "metrics.respiratory_rate"),
        Invalid("cpap-leak-rate-missing.json", PayloadKind.CpapTelemetry, "metrics.leak_rate_lpm"),
        Invalid("cpap-metrics-missing.json", PayloadKind.CpapTelemetry, "metrics"),
        Invalid("cpap-pressure-as-string.json", PayloadKind.CpapTelemetry, "metrics.pressure_cm_h2o"),
        Invalid("cpap-pressure-nan-string.json", PayloadKind.CpapTelemetry, "metrics.pressure_cm_h2o"),
        Invalid("cpap-patient-mode-too-long.json", PayloadKind.CpapTelemetry, "metrics.patient_mode"),
        Invalid("cpap-timestamp-without-offset.json", PayloadKind.CpapTelemetry, "timestamp"),
        Invalid("cpap-timestamp-not-rfc3339.json", PayloadKind.CpapTelemetry, "timestamp"),
        Invalid("cpap-timestamp-year-1999.json", PayloadKind.CpapTelemetry, "timestamp"),
        Invalid("cpap-timestamp-as-number.json", PayloadKind.CpapTelemetry, "timestamp"),
        Invalid("cpap-serial-wrong-shape.json", PayloadKind.CpapTelemetry, "serial"),
        Invalid("cpap-serial-of-oxygen-device.json", PayloadKind.CpapTelemetry, "serial"),
        Invalid("cpap-firmware-too-long.json", PayloadKind.CpapTelemetry, "firmware"),

        Invalid("oxygen-purity-over-100.json", PayloadKind.OxygenTelemetry, "metrics.oxygen_purity_pct"),
        Invalid("oxygen-flow-over-15.json", PayloadKind.OxygenTelemetry, "metrics.flow_rate_lpm"),
        Invalid("oxygen-temperature-below-minus-20.json", PayloadKind.OxygenTelemetry, "metrics.temperature_c"),
        Invalid("oxygen-battery-over-100.json", PayloadKind.OxygenTelemetry, "metrics.battery_pct"),
        Invalid("oxygen-alarm-code-empty.json", PayloadKind.OxygenTelemetry, "metrics.alarm_code"),
        Invalid("oxygen-serial-null.json", PayloadKind.OxygenTelemetry, "serial"),
        Invalid("oxygen-timestamp-offset-over-14-hours.json", PayloadKind.OxygenTelemetry, "timestamp"),
        Invalid("oxygen-timestamp-hour-24.json", PayloadKind.OxygenTelemetry, "timestamp"),
        Invalid("oxygen-metrics-is-array.json", PayloadKind.OxygenTelemetry, "metrics"),
        Invalid("oxygen-status-is-object.json", PayloadKind.OxygenTelemetry, "status"),

        Invalid("ecg-heart-rate-over-400.json", PayloadKind.EcgTelemetry, "metrics.heart_rate_bpm"),
        Invalid("ecg-qt-over-1000.json", PayloadKind.EcgTelemetry, "metrics.qt_ms"),
        Invalid("ecg-signal-quality-unknown.json", PayloadKind.EcgTelemetry, "metrics.signal_quality"),
        Invalid("ecg-lead-lowercase.json", PayloadKind.EcgTelemetry, "lead"),
        Invalid("ecg-lead-missing.json", PayloadKind.EcgTelemetry, "lead"),
        Invalid("ecg-arrhythmia-empty.json", PayloadKind.EcgTelemetry, "metrics.arrhythmia"),
        Invalid("ecg-arrhythmia-null.json", PayloadKind.EcgTelemetry, "metrics.arrhythmia"),

        Invalid("cpap-config-target-pressure-below-4.json", PayloadKind.CpapConfig, "config.target_pressure"),
        Invalid("cpap-config-humidity-level-fractional.json", PayloadKind.CpapConfig, "config.humidity_level"),
        Invalid("cpap-config-humidity-level-over-8.json", PayloadKind.CpapConfig, "config.humidity_level"),
        Invalid("cpap-config-alerts-missing.json", PayloadKind.CpapConfig, "config.alerts"),
        Invalid("cpap-config-rr-high-over-80.json", PayloadKind.CpapConfig, "config.alerts.rr_high"),
        Invalid("cpap-config-version-zero.json", PayloadKind.CpapConfig, "version"),
        Invalid("cpap-config-version-as-string.json", PayloadKind.CpapConfig, "version"),

        Invalid("oxygen-config-flow-over-15.json", PayloadKind.OxygenConfig, "config.flow_rate_lpm"),
        Invalid("oxygen-config-night-mode-as-string.json", PayloadKind.OxygenConfig, "config.night_mode"),
        Invalid("oxygen-config-night-mode-missing.json", PayloadKind.OxygenConfig, "config.night_mode"),
        Invalid("oxygen-config-due-date-not-iso.json", PayloadKind.OxygenConfig, "config.maintenance_due_date"),
        Invalid("oxygen-config-due-date-with-time.json", PayloadKind.OxygenConfig, "config.maintenance_due_date"),

        Invalid("ecg-config-sampling-rate-300.json", PayloadKind.EcgConfig, "config.sampling_rate_hz"),
        Invalid("ecg-config-hr-high-over-300.json", PayloadKind.EcgConfig, "config.hr_high_bpm"),
        Invalid("ecg-config-hr-low-below-20.json", PayloadKind.EcgConfig, "config.hr_low_bpm"),
        Invalid("ecg-config-lead-unknown.json", PayloadKind.EcgConfig, "config.lead"),

        Invalid("ecg-report-id-with-slash.json", PayloadKind.EcgReport, "report.report_id"),
        Invalid("ecg-report-id-too-long.json", PayloadKind.EcgReport, "report.report_id"),
        Invalid("ecg-report-id-empty.json", PayloadKind.EcgReport, "report.report_id"),
        Invalid("ecg-report-s3-url-https.json", PayloadKind.EcgReport, "report.s3_url"),
        Invalid("ecg-report-s3-url-without-key.json", PayloadKind.EcgReport, "report.s3_url"),
        Invalid("ecg-report-max-hr-over-400.json", PayloadKind.EcgReport, "report.summary.max_hr"),
        Invalid("ecg-report-summary-missing.json", PayloadKind.EcgReport, "report.summary"),
        Invalid("ecg-report-too-many-alerts.json", PayloadKind.EcgReport, "report.summary.alerts"),
        Invalid("ecg-report-alert-too-long.json", PayloadKind.EcgReport, "report.summary.alerts[0]"),
        Invalid("ecg-report-alert-null.json", PayloadKind.EcgReport, "report.summary.alerts[1]"),
        Invalid("ecg-report-serial-of-cpap-device.json", PayloadKind.EcgReport, "serial"),

        Valid("config-ack-applied.json", PayloadKind.ConfigAck),
        Valid("config-ack-rejected.json", PayloadKind.ConfigAck),
        Valid("firmware-offer.json", PayloadKind.FirmwareOffer),
        Valid("firmware-progress-downloading.json", PayloadKind.FirmwareProgress),
        Valid("firmware-progress-failed.json", PayloadKind.FirmwareProgress),
        Invalid("config-ack-version-zero.json", PayloadKind.ConfigAck, "version"),
        Invalid("config-ack-status-unknown.json", PayloadKind.ConfigAck, "status"),
        Invalid("firmware-offer-url-http.json", PayloadKind.FirmwareOffer, "url"),
        Invalid("firmware-offer-sha256-upper-case.json", PayloadKind.FirmwareOffer, "sha256"),
        Invalid("firmware-progress-percent-over-100.json", PayloadKind.FirmwareProgress, "percent"),
        Invalid("firmware-progress-status-unknown.json", PayloadKind.FirmwareProgress, "status"),
    ];

    public static Sample Get(string file) => All.Single(s => s.File == file);

    public static string SchemaFileName(PayloadKind kind) => kind switch
    {
        PayloadKind.CpapTelemetry => "cpap-telemetry.schema.json",
        PayloadKind.OxygenTelemetry => "oxygen-telemetry.schema.json",
        PayloadKind.EcgTelemetry => "ecg-telemetry.schema.json",
        PayloadKind.CpapConfig => "cpap-config.schema.json",
        PayloadKind.OxygenConfig => "oxygen-config.schema.json",
        PayloadKind.EcgConfig => "ecg-config.schema.json",
        PayloadKind.EcgReport => "ecg-report.schema.json",
        PayloadKind.ConfigAck => "config-ack.schema.json",
        PayloadKind.FirmwareOffer => "firmware-offer.schema.json",
        PayloadKind.FirmwareProgress => "firmware-progress.schema.json",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// The topic a sample would arrive on: its own serial when that parses and fits the kind (so a BIPAP sample goes
    /// to a BIPAP topic), otherwise the seed serial of that kind, so a bad payload serial shows up as a mismatch.
    /// </summary>
    public static SerialNumber TopicSerial(PayloadKind kind, string json)
    {
        var fallback = kind switch
        {
            PayloadKind.CpapTelemetry or PayloadKind.CpapConfig => "CPAP-2301-9912",
            PayloadKind.OxygenTelemetry or PayloadKind.OxygenConfig => "OXY-8844-5521",
            _ => "ECG-7711-0045",
        };
        var fallbackSerial = SerialNumber.Parse(fallback);

        using var doc = System.Text.Json.JsonDocument.Parse(json);
        if (doc.RootElement.TryGetProperty("serial", out var serial)
            && serial.ValueKind == System.Text.Json.JsonValueKind.String
            && SerialNumber.TryParse(serial.GetString(), out var parsed, out _)
            && SameStore(parsed.Kind, fallbackSerial.Kind))
        {
            return parsed;
        }
        return fallbackSerial;
    }

    /// <summary>Runs the validator method for the sample's kind; returns whether it accepted and its errors.</summary>
    public static (bool IsValid, IReadOnlyList<FieldError> Errors, string Summary) Validate(PayloadKind kind, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        switch (kind)
        {
            case PayloadKind.ConfigAck:
                return Reply(global::Edge.Contracts.Downlink.DeviceReplyReader.TryReadConfigAck(bytes, out _, out var ackError), ackError);
            case PayloadKind.FirmwareOffer:
                return Reply(global::Edge.Contracts.Downlink.DeviceReplyReader.TryReadFirmwareOffer(bytes, out _, out var offerError), offerError);
            case PayloadKind.FirmwareProgress:
                return Reply(global::Edge.Contracts.Downlink.DeviceReplyReader.TryReadFirmwareProgress(bytes, out _, out var progressError), progressError);
        }

        var serial = TopicSerial(kind, json);
        switch (kind)
        {
            case PayloadKind.CpapTelemetry or PayloadKind.OxygenTelemetry or PayloadKind.EcgTelemetry:
                var telemetry = PayloadValidator.ValidateTelemetry(bytes, serial);
                return (telemetry.IsValid, telemetry.Errors, telemetry.ErrorSummary());
            case PayloadKind.CpapConfig or PayloadKind.OxygenConfig or PayloadKind.EcgConfig:
                var config = PayloadValidator.ValidateConfig(bytes, serial);
                return (config.IsValid, config.Errors, config.ErrorSummary());
            default:
                var report = PayloadValidator.ValidateReport(bytes, serial);
                return (report.IsValid, report.Errors, report.ErrorSummary());
        }
    }

    // DeviceReplyReader answers with one "field: reason" line; split it the way the payload validator reports.
    private static (bool, IReadOnlyList<FieldError>, string) Reply(bool ok, string error)
    {
        if (ok)
        {
            return (true, [], "");
        }

        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        var field = colon > 0 ? new FieldError(error[..colon], error[(colon + 2)..]) : new FieldError(FieldError.Document, error);
        return (false, [field], error);
    }

    private static bool SameStore(DeviceKind a, DeviceKind b) =>
        a == b || (a is DeviceKind.Cpap or DeviceKind.Bipap && b is DeviceKind.Cpap or DeviceKind.Bipap);

    private static Sample Valid(string file, PayloadKind kind) => new(file, kind, null);

    private static Sample Invalid(string file, PayloadKind kind, string field) => new(file, kind, field);
}
