using System.Globalization;

namespace Edge.Cli.Terminal;

/// <summary>Number formatting for human output: invariant culture, thousands separators, binary byte units.</summary>
internal static class Units
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Bytes(long value)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double scaled = value;
        var unit = 0;
        while (Math.Abs(scaled) >= 1024 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{value} B")
            : string.Create(CultureInfo.InvariantCulture, $"{scaled:0.0} {units[unit]}");
    }

    public static string Percent(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:0.0}%");

    public static string Milliseconds(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:0.00} ms");

    public static string Utc(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
