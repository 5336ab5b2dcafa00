using System.Globalization;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;

namespace Edge.Storage.Alerts;

/// <summary>What the rules need to know about one device: its clinic and its thresholds, with the config version each set came from.</summary>
/// <param name="ClinicId">The device's clinic in the registry; null when the device is not registered.</param>
/// <param name="CpapConfigVersion">The config version the CPAP/BiPAP thresholds came from; null when they are the defaults.</param>
/// <param name="EcgConfigVersion">The config version the heart-rate band came from; null when it is the default.</param>
/// <param name="CpapLeakThreshold">Leak above this (L/min) raises <c>cpap.leak_high</c>.</param>
/// <param name="CpapRrLow">Respiratory rate below this raises <c>cpap.rr_low</c>.</param>
/// <param name="CpapRrHigh">Respiratory rate above this raises <c>cpap.rr_high</c>.</param>
/// <param name="OxygenPurityFloorPct">Purity below this (%) raises <c>oxygen.purity_low</c>; always the default (configs have no floor).</param>
/// <param name="EcgHrLowBpm">Heart rate below this raises <c>ecg.hr_low</c>.</param>
/// <param name="EcgHrHighBpm">Heart rate above this raises <c>ecg.hr_high</c>.</param>
/// <param name="ClockSkewSeconds">A device time further than this from the gateway's receive time raises <c>device_clock_skew</c>; always the default.</param>
public sealed record DeviceThresholds(
    string? ClinicId,
    int? CpapConfigVersion,
    int? EcgConfigVersion,
    double CpapLeakThreshold,
    double CpapRrLow,
    double CpapRrHigh,
    double OxygenPurityFloorPct,
    double EcgHrLowBpm,
    double EcgHrHighBpm,
    double ClockSkewSeconds = 300);

/// <summary>
/// The alert rules: pure functions from a stored reading and its device's thresholds to the alerts it raises. Most
/// readings raise none, so evaluating one is a few comparisons and allocates only when an alert is raised.
/// </summary>
public static class AlertRules
{
    /// <summary>The thresholds of a device without a usable config: the configured defaults.</summary>
    public static DeviceThresholds Defaults(AlertOptions options, string? clinicId = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(clinicId, null, null, options.CpapLeakThreshold, options.CpapRrLow, options.CpapRrHigh,
            options.OxygenPurityFloorPct, options.EcgHrLowBpm, options.EcgHrHighBpm, options.DeviceClockSkewSeconds);
    }

    /// <summary>
    /// The thresholds of a registered device from its current desired config (<c>device_configs.config</c>): CPAP/BiPAP
    /// <c>alerts.leak_threshold</c>, <c>alerts.rr_low</c>, <c>alerts.rr_high</c>; ECG <c>hr_low_bpm</c>, <c>hr_high_bpm</c>.
    /// </summary>
    /// <remarks>
    /// Accepts the config object itself or a whole config message (<c>{"serial":…,"config":{…}}</c>), since the column
    /// may hold either. A set of thresholds is taken only when all of its fields are numbers; otherwise that set stays
    /// at the defaults and its version is null, so an alert never claims a config version it did not use. Malformed
    /// JSON counts as no config: alerting on defaults beats not alerting.
    /// </remarks>
    public static DeviceThresholds FromConfig(AlertOptions defaults, string? clinicId, int? configVersion, string? configJson)
    {
        var thresholds = Defaults(defaults, clinicId);
        if (string.IsNullOrWhiteSpace(configJson))
        {
            return thresholds;
        }

        try
        {
            using var document = JsonDocument.Parse(configJson);
            var config = document.RootElement;
            if (config.ValueKind != JsonValueKind.Object)
            {
                return thresholds;
            }
            if (config.TryGetProperty("config", out var inner) && inner.ValueKind == JsonValueKind.Object)
            {
                config = inner;
            }

            if (config.TryGetProperty("alerts", out var alerts) && alerts.ValueKind == JsonValueKind.Object
                && TryNumber(alerts, "leak_threshold", out var leak) && TryNumber(alerts, "rr_low", out var rrLow) && TryNumber(alerts, "rr_high", out var rrHigh))
            {
                thresholds = thresholds with { CpapConfigVersion = configVersion, CpapLeakThreshold = leak, CpapRrLow = rrLow, CpapRrHigh = rrHigh };
            }
            if (TryNumber(config, "hr_low_bpm", out var hrLow) && TryNumber(config, "hr_high_bpm", out var hrHigh))
            {
                thresholds = thresholds with { EcgConfigVersion = configVersion, EcgHrLowBpm = hrLow, EcgHrHighBpm = hrHigh };
            }
            return thresholds;
        }
        catch (JsonException)
        {
            return thresholds;
        }
    }

    /// <summary>Appends the alerts <paramref name="reading"/> raises to <paramref name="alerts"/> (created lazily); returns how many.</summary>
    /// <remarks>
    /// Severity: critical when the device itself says something is wrong (an alarm code, an arrhythmia) or the patient
    /// may be getting too little oxygen (purity below the floor) — someone should look now. Warning for a single reading
    /// outside a configured band (leak, respiratory rate, heart rate): often transient (a mask shifted, the patient
    /// moved, a lead slipped), so it asks for a look at the trend, not a page in the night.
    /// Comparisons are strict: a reading exactly at a threshold raises nothing, as the device configs describe them
    /// ("above", "below").
    /// </remarks>
    public static int Evaluate(StoredReading reading, DeviceThresholds thresholds, DateTimeOffset createdAt, ref List<Alert>? alerts)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(thresholds);
        var before = alerts?.Count ?? 0;
        var t = thresholds;
        EvaluateClock(reading, t, createdAt, ref alerts);
        switch (reading.Reading)
        {
            case CpapTelemetry { Metrics: var m }:
                if (m.LeakRateLpm > t.CpapLeakThreshold)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.CpapLeakHigh, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Leak {m.LeakRateLpm:0.##} L/min above threshold {t.CpapLeakThreshold:0.##} L/min"),
                        m.LeakRateLpm, t.CpapLeakThreshold, null, t.CpapConfigVersion);
                }
                if (m.RespiratoryRate < t.CpapRrLow)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.CpapRrLow, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Respiratory rate {m.RespiratoryRate:0.##} breaths/min below threshold {t.CpapRrLow:0.##} breaths/min"),
                        m.RespiratoryRate, t.CpapRrLow, null, t.CpapConfigVersion);
                }
                else if (m.RespiratoryRate > t.CpapRrHigh)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.CpapRrHigh, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Respiratory rate {m.RespiratoryRate:0.##} breaths/min above threshold {t.CpapRrHigh:0.##} breaths/min"),
                        m.RespiratoryRate, t.CpapRrHigh, null, t.CpapConfigVersion);
                }
                break;

            case OxygenTelemetry { Metrics: var m }:
                if (m.OxygenPurityPct < t.OxygenPurityFloorPct)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.OxygenPurityLow, AlertSeverity.Critical,
                        string.Create(CultureInfo.InvariantCulture, $"Oxygen purity {m.OxygenPurityPct:0.##} % below floor {t.OxygenPurityFloorPct:0.##} %"),
                        m.OxygenPurityPct, t.OxygenPurityFloorPct, null, null);
                }
                if (m.AlarmCode is { Length: > 0 } code)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.OxygenAlarm, AlertSeverity.Critical,
                        $"Concentrator alarm {code}", null, null, code, null);
                }
                break;

            case EcgTelemetry { Metrics: var m }:
                // "none" in any case, as the agent's lane classifier reads it, so both sides agree on what is urgent.
                if (!string.Equals(m.Arrhythmia, "none", StringComparison.OrdinalIgnoreCase))
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.EcgArrhythmia, AlertSeverity.Critical,
                        $"Arrhythmia detected: {m.Arrhythmia}", null, null, m.Arrhythmia, null);
                }
                if (m.HeartRateBpm < t.EcgHrLowBpm)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.EcgHrLow, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Heart rate {m.HeartRateBpm:0.##} bpm below threshold {t.EcgHrLowBpm:0.##} bpm"),
                        m.HeartRateBpm, t.EcgHrLowBpm, null, t.EcgConfigVersion);
                }
                else if (m.HeartRateBpm > t.EcgHrHighBpm)
                {
                    Add(ref alerts, reading, t, createdAt, AlertRuleNames.EcgHrHigh, AlertSeverity.Warning,
                        string.Create(CultureInfo.InvariantCulture, $"Heart rate {m.HeartRateBpm:0.##} bpm above threshold {t.EcgHrHighBpm:0.##} bpm"),
                        m.HeartRateBpm, t.EcgHrHighBpm, null, t.EcgConfigVersion);
                }
                break;
        }
        return (alerts?.Count ?? 0) - before;
    }

    /// <summary>
    /// <c>device_clock_skew</c>: the device's time is further from the moment its gateway received the reading than the
    /// threshold, either way. One alert per device per UTC day of the gateway's receive time (the device's own date is
    /// the thing in doubt): the id is derived from (rule, serial, day), so the day's later skewed readings, their
    /// re-sends and other replicas raise nothing more.
    /// </summary>
    private static void EvaluateClock(StoredReading reading, DeviceThresholds t, DateTimeOffset createdAt, ref List<Alert>? alerts)
    {
        var skew = (reading.DeviceTime - reading.GatewayReceivedAt).TotalSeconds;
        if (Math.Abs(skew) <= t.ClockSkewSeconds)
        {
            return;
        }
        var day = reading.GatewayReceivedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var id = AlertId.ForSubject(AlertRuleNames.DeviceClockSkew, reading.Serial.Value, day);
        if (alerts is not null)
        {
            foreach (var raised in alerts)
            {
                if (raised.Id == id)
                {
                    return; // an earlier reading of the batch raised the day's alert already
                }
            }
        }
        alerts ??= [];
        alerts.Add(new Alert(
            id, reading.Serial.Value, DeviceKinds.Name(reading.Serial.Kind), t.ClinicId, reading.GatewayId, reading.Id,
            AlertRuleNames.DeviceClockSkew, AlertSeverity.Warning,
            string.Create(CultureInfo.InvariantCulture,
                $"Device clock {Math.Abs(skew):0} s {(skew > 0 ? "ahead of" : "behind")} its gateway's, more than {t.ClockSkewSeconds:0} s"),
            Math.Round(skew, 3), t.ClockSkewSeconds, null, null, reading.DeviceTime, createdAt));
    }

    private static void Add(
        ref List<Alert>? alerts, StoredReading reading, DeviceThresholds thresholds, DateTimeOffset createdAt, string rule, string severity,
        string message, double? value, double? threshold, string? detail, int? configVersion)
    {
        alerts ??= [];
        alerts.Add(new Alert(
            // The content id, not the reading id: a device that re-sends a reading after a lost PUBACK gets a new
            // journal identity for it (after an agent restart), and the stores keep it once; so must the alerts.
            AlertId.From(reading.ContentId, rule), reading.Serial.Value, DeviceKinds.Name(reading.Serial.Kind), thresholds.ClinicId, reading.GatewayId,
            reading.Id, rule, severity, message, value, threshold, detail, configVersion, reading.DeviceTime, createdAt));
    }

    private static bool TryNumber(JsonElement element, string name, out double value)
    {
        value = 0;
        return element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number
            && property.TryGetDouble(out value) && double.IsFinite(value);
    }
}
