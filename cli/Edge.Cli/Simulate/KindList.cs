using Edge.Contracts.Devices;

namespace Edge.Cli.Simulate;

/// <summary>The <c>--kinds</c> list of <c>edgectl simulate</c>: comma-separated names read by <see cref="DeviceKinds.TryParseName"/>.</summary>
internal static class KindList
{
    /// <summary>What a plain <c>edgectl simulate</c> mixes: one device of each payload shape.</summary>
    public const string Default = "cpap,oxy,ecg";

    /// <summary>The names help and errors offer; "oxy" is the serial prefix technicians know, "oxygen" works as well.</summary>
    public const string Names = "cpap, bipap, oxy, ecg";

    /// <summary>Parses a list such as <c>cpap, OXY,ecg</c> in order without repeats; on failure names the first unknown entry (null when the list is empty).</summary>
    public static bool TryParse(string list, out IReadOnlyList<DeviceKind> kinds, out string? unknown)
    {
        var parsed = new List<DeviceKind>();
        kinds = parsed;
        unknown = null;
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!DeviceKinds.TryParseName(name, out var kind))
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
}
