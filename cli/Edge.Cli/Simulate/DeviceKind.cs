namespace Edge.Cli.Simulate;

/// <summary>The kinds of device edgectl can simulate; each has its serial prefix and payload shape.</summary>
internal enum DeviceKind
{
    Cpap,
    Bipap,
    Oxygen,
    Ecg,
}

/// <summary>Names, serial prefixes and parsing for <see cref="DeviceKind"/>.</summary>
internal static class DeviceKinds
{
    /// <summary>The kinds a plain <c>edgectl simulate</c> mixes: one of each payload shape.</summary>
    public const string DefaultList = "cpap,oxy,ecg";

    public static readonly IReadOnlyList<string> Names = ["cpap", "bipap", "oxy", "ecg"];

    public static string Prefix(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "CPAP",
        DeviceKind.Bipap => "BIPAP",
        DeviceKind.Oxygen => "OXY",
        DeviceKind.Ecg => "ECG",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string Name(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap => "cpap",
        DeviceKind.Bipap => "bipap",
        DeviceKind.Oxygen => "oxy",
        DeviceKind.Ecg => "ecg",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParseName(string name, out DeviceKind kind)
    {
        (var known, kind) = name.Trim().ToLowerInvariant() switch
        {
            "cpap" => (true, DeviceKind.Cpap),
            "bipap" => (true, DeviceKind.Bipap),
            "oxy" or "oxygen" => (true, DeviceKind.Oxygen),
            "ecg" => (true, DeviceKind.Ecg),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>Parses a comma-separated list such as <c>cpap,oxy,ecg</c>; the first unknown name is reported.</summary>
    public static bool TryParseList(string list, out IReadOnlyList<DeviceKind> kinds, out string? unknown)
    {
        var parsed = new List<DeviceKind>();
        kinds = parsed;
        unknown = null;
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParseName(name, out var kind))
            {
                unknown = name;
                return false;
            }

            if (!parsed.Contains(kind))
            {
                parsed.Add(kind);
            }
        }

        return parsed.Count > 0;
    }

    /// <summary>The kind a serial's prefix names (<c>OXY-8844-5521</c> is an oxygen concentrator).</summary>
    public static DeviceKind FromSerial(string serial)
    {
        var dash = serial.IndexOf('-', StringComparison.Ordinal);
        var prefix = dash > 0 ? serial[..dash] : serial;
        return prefix switch
        {
            "CPAP" => DeviceKind.Cpap,
            "BIPAP" => DeviceKind.Bipap,
            "OXY" => DeviceKind.Oxygen,
            "ECG" => DeviceKind.Ecg,
            _ => throw new ArgumentException($"'{serial}' does not start with a known device prefix (CPAP, BIPAP, OXY, ECG).", nameof(serial)),
        };
    }
}
