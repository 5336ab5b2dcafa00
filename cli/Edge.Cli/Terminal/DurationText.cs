using System.Globalization;

namespace Edge.Cli.Terminal;

/// <summary>Reads and writes the short durations technicians type (<c>30s</c>, <c>5m</c>) and see (<c>3d 04:12:09</c>).</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string number, double unitSeconds) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount)
            || !double.IsFinite(amount) || amount < 0 || amount * unitSeconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(amount * unitSeconds);
        return true;
    }

    /// <summary>The compact form used in messages and option ranges: <c>250ms</c>, <c>30s</c>, <c>5m</c>, <c>1.5h</c>.</summary>
    public static string Format(TimeSpan value) => value.TotalSeconds switch
    {
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###}ms"),
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0.##}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.TotalHours:0.##}h"),
    };

    /// <summary>An age or uptime for humans: <c>42s</c>, <c>12m 05s</c>, <c>3h 02m</c>, <c>3d 04:12:09</c>.</summary>
    public static string Age(TimeSpan value) => value switch
    {
        { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0}s"),
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{value.Minutes}m {value.Seconds:00}s"),
        { TotalDays: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{value.Hours}h {value.Minutes:00}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)value.TotalDays}d {value.Hours:00}:{value.Minutes:00}:{value.Seconds:00}"),
    };
}
