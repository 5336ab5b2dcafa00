using Edge.Contracts.Devices;

namespace Edge.Storage.Queries;

/// <summary>
/// The metrics a telemetry filter or a summary may name, per device kind: the payloads' own metric names. Each store maps
/// them to fixed column expressions; a name not listed here never reaches a query.
/// </summary>
public static class ReadingMetrics
{
    public const string PressureCmH2O = "pressure_cm_h2o";
    public const string RespiratoryRate = "respiratory_rate";
    public const string LeakRateLpm = "leak_rate_lpm";
    public const string OxygenPurityPct = "oxygen_purity_pct";
    public const string FlowRateLpm = "flow_rate_lpm";
    public const string TemperatureC = "temperature_c";
    public const string BatteryPct = "battery_pct";
    public const string HeartRateBpm = "heart_rate_bpm";
    public const string QrsMs = "qrs_ms";
    public const string QtMs = "qt_ms";
    public const string HrvRmssdMs = "hrv_rmssd_ms";

    private static readonly string[] Cpap = [PressureCmH2O, RespiratoryRate, LeakRateLpm];
    private static readonly string[] Oxygen = [OxygenPurityPct, FlowRateLpm, TemperatureC, BatteryPct];
    private static readonly string[] Ecg = [HeartRateBpm, QrsMs, QtMs, HrvRmssdMs];

    /// <summary>The metric names of <paramref name="kind"/>, in payload order.</summary>
    public static IReadOnlyList<string> For(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap or DeviceKind.Bipap => Cpap,
        DeviceKind.Oxygen => Oxygen,
        DeviceKind.Ecg => Ecg,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    /// <summary>
    /// True when <paramref name="metric"/> is a metric of <paramref name="kind"/> (exact, case-sensitive). Otherwise
    /// <paramref name="error"/> names the metric and lists the allowed ones, for a 400 that names the parameter; on
    /// success it is empty.
    /// </summary>
    public static bool TryValidate(DeviceKind kind, string? metric, out string error)
    {
        var names = For(kind);
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], metric, StringComparison.Ordinal))
            {
                error = string.Empty;
                return true;
            }
        }
        error = string.IsNullOrEmpty(metric)
            ? $"no metric given; {KindName(kind)} readings have {string.Join(", ", names)}"
            : $"unknown metric '{Quote(metric)}' for {KindName(kind)} readings; expected one of {string.Join(", ", names)}";
        return false;
    }

    /// <summary>
    /// True when the filter names a metric of <paramref name="kind"/>, its bounds are finite numbers and min is not above
    /// max. Otherwise <paramref name="error"/> says what is wrong; on success it is empty.
    /// </summary>
    public static bool TryValidate(DeviceKind kind, MetricFilter filter, out string error)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (!TryValidate(kind, filter.Metric, out error))
        {
            return false;
        }
        if (filter.Min is { } min && !double.IsFinite(min) || filter.Max is { } max && !double.IsFinite(max))
        {
            error = $"the bounds of {filter.Metric} must be finite numbers";
            return false;
        }
        if (filter.Min > filter.Max)
        {
            error = $"min.{filter.Metric} ({filter.Min}) is above max.{filter.Metric} ({filter.Max})";
            return false;
        }
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the serial is parsed, of one of the store's kinds, and every filter is valid.</summary>
    internal static void Require(SerialNumber serial, IReadOnlyList<MetricFilter>? filters, string store, params DeviceKind[] kinds)
    {
        RequireSerial(serial, store, kinds);
        if (filters is null)
        {
            return;
        }
        for (var i = 0; i < filters.Count; i++)
        {
            if (filters[i] is null)
            {
                throw new ArgumentException($"filters[{i}] is null", nameof(filters));
            }
            if (!TryValidate(serial.Kind, filters[i], out var error))
            {
                throw new ArgumentException(error, nameof(filters));
            }
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the serial is parsed, of one of the store's kinds, and the metric is its kind's.</summary>
    internal static void Require(SerialNumber serial, string metric, string store, params DeviceKind[] kinds)
    {
        RequireSerial(serial, store, kinds);
        if (!TryValidate(serial.Kind, metric, out var error))
        {
            throw new ArgumentException(error, nameof(metric));
        }
    }

    private static void RequireSerial(SerialNumber serial, string store, DeviceKind[] kinds)
    {
        if (serial.Value is null)
        {
            throw new ArgumentException("the query has no serial (default SerialNumber)", nameof(serial));
        }
        if (Array.IndexOf(kinds, serial.Kind) < 0)
        {
            throw new ArgumentException($"{serial} is a {KindName(serial.Kind)} device; the {store} store keeps {string.Join(" and ", kinds.Select(KindName))} readings", nameof(serial));
        }
    }

    private static string KindName(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "CPAP",
        DeviceKind.Bipap => "BiPAP",
        DeviceKind.Oxygen => "oxygen",
        DeviceKind.Ecg => "ECG",
        _ => kind.ToString(),
    };

    // An error message quotes what was asked for; a pasted paragraph should not come back as one.
    private static string Quote(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}
