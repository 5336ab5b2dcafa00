using System.Globalization;
using System.Text;

namespace Edge.Hosting.Metrics;

/// <summary>
/// Names, labels and numbers of the Prometheus text format, mapped from OpenTelemetry-style instrument names the way
/// OpenTelemetry's Prometheus exporter does: dots become underscores, the unit becomes a suffix (ms → _milliseconds,
/// s → _seconds, By → _bytes; annotations such as {operation} are dropped), and counters end in _total.
/// </summary>
public static class PrometheusText
{
    public static string MetricName(string instrument, string? unit, bool counter)
    {
        var name = Sanitize(instrument, allowColon: true);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        return counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>Tags as <c>a="x",b="y"</c>, sorted by name so the same tags always make the same series.</summary>
    public static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = tags.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder();
        foreach (var (key, value) in sorted)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(Sanitize(key, allowColon: false)).Append("=\"")
                .Append(EscapeLabelValue(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty)).Append('"');
        }

        return text.ToString();
    }

    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public static string EscapeLabelValue(string value) => EscapeHelp(value).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => string.Empty,
        "ms" => "milliseconds",
        "s" => "seconds",
        "By" => "bytes",
        "%" => "percent",
        _ when unit.StartsWith('{') => string.Empty, // an annotation ({operation}, {collection}), not a unit
        _ => Sanitize(unit, allowColon: false),
    };

    // Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*, label names the same without the colon.
    private static string Sanitize(string name, bool allowColon)
    {
        var text = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        if (text.Length == 0 || char.IsAsciiDigit(text[0]))
        {
            text.Insert(0, '_');
        }

        return text.ToString();
    }
}
