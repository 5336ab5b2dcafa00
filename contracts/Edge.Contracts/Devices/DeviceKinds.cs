namespace Edge.Contracts.Devices;

/// <summary>Names and serial prefixes of <see cref="DeviceKind"/> as they appear in topics, stores and the CLI.</summary>
public static class DeviceKinds
{
    /// <summary>The lower-case name used in stores, metrics and the CLI: cpap, bipap, oxygen, ecg.</summary>
    public static string Name(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "cpap",
        DeviceKind.Bipap => "bipap",
        DeviceKind.Oxygen => "oxygen",
        DeviceKind.Ecg => "ecg",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    /// <summary>The upper-case serial prefix: CPAP, BIPAP, OXY, ECG.</summary>
    public static string Prefix(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "CPAP",
        DeviceKind.Bipap => "BIPAP",
        DeviceKind.Oxygen => "OXY",
        DeviceKind.Ecg => "ECG",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    /// <summary>
    /// Reads a kind as a technician types it (cpap, bipap, oxy, oxygen, ecg; any case).
    /// "oxy" is accepted because it is what the serial prefix says.
    /// </summary>
    public static bool TryParseName(string? name, out DeviceKind kind)
    {
        if (string.Equals(name, "cpap", StringComparison.OrdinalIgnoreCase))
        {
            kind = DeviceKind.Cpap;
            return true;
        }
        if (string.Equals(name, "bipap", StringComparison.OrdinalIgnoreCase))
        {
            kind = DeviceKind.Bipap;
            return true;
        }
        if (string.Equals(name, "oxygen", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "oxy", StringComparison.OrdinalIgnoreCase))
        {
            kind = DeviceKind.Oxygen;
            return true;
        }
        if (string.Equals(name, "ecg", StringComparison.OrdinalIgnoreCase))
        {
            kind = DeviceKind.Ecg;
            return true;
        }
        kind = default;
        return false;
    }

    /// <summary>Maps an exact upper-case serial prefix to its kind.</summary>
    internal static bool TryFromPrefix(ReadOnlySpan<char> prefix, out DeviceKind kind)
    {
        switch (prefix)
        {
            case "CPAP":
                kind = DeviceKind.Cpap;
                return true;
            case "BIPAP":
                kind = DeviceKind.Bipap;
                return true;
            case "OXY":
                kind = DeviceKind.Oxygen;
                return true;
            case "ECG":
                kind = DeviceKind.Ecg;
                return true;
            default:
                kind = default;
                return false;
        }
    }
}
