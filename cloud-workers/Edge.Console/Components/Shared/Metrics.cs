using System.Text.Json;

namespace Edge.Console.Components.Shared;

/// <summary>The metrics the API summarizes per device kind (docs/api.md, Telemetry), and how to read them from a payload.</summary>
internal static class Metrics
{
    public static IReadOnlyList<string> Of(string kind) => kind switch
    {
        "cpap" or "bipap" => ["pressure_cm_h2o", "respiratory_rate", "leak_rate_lpm"],
        "oxygen" => ["oxygen_purity_pct", "flow_rate_lpm", "temperature_c", "battery_pct"],
        "ecg" => ["heart_rate_bpm", "qrs_ms", "qt_ms"],
        _ => [],
    };

    /// <summary>The metric's value anywhere in the device's payload (payloads nest their measurements), or null.</summary>
    public static double? Find(JsonElement payload, string metric)
    {
        switch (payload.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in payload.EnumerateObject())
                {
                    if (property.NameEquals(metric) && property.Value.ValueKind == JsonValueKind.Number)
                    {
                        return property.Value.GetDouble();
                    }
                    if (Find(property.Value, metric) is { } nested)
                    {
                        return nested;
                    }
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in payload.EnumerateArray())
                {
                    if (Find(item, metric) is { } nested)
                    {
                        return nested;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    public static string Label(string metric) => metric switch
    {
        "pressure_cm_h2o" => "Pressure (cm H₂O)",
        "respiratory_rate" => "Respiratory rate (/min)",
        "leak_rate_lpm" => "Leak (L/min)",
        "oxygen_purity_pct" => "Oxygen purity (%)",
        "flow_rate_lpm" => "Flow (L/min)",
        "temperature_c" => "Temperature (°C)",
        "battery_pct" => "Battery (%)",
        "heart_rate_bpm" => "Heart rate (bpm)",
        "qrs_ms" => "QRS (ms)",
        "qt_ms" => "QT (ms)",
        _ => metric,
    };
}
