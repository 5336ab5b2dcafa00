using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Edge.Cli.Terminal;

/// <summary>
/// Numeric and duration options that check their own range while parsing, so a bad value is a usage error
/// (exit code 2) whose message names the option. Validators cannot do this: reading an unparsable value there throws.
/// </summary>
internal static class CliOptions
{
    public static Option<int> Int32(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInRange(result, name, min, max, static (string s, out int v) =>
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v)),
    };

    public static Option<long?> OptionalInt64(string name, string description, long min, long max) => new(name)
    {
        Description = description,
        CustomParser = result => ParseInRange(result, name, min, max, static (string s, out long v) =>
            long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v)),
    };

    /// <summary>A number in [min, max]; <c>check</c> adds a rule past the range (an error message, or null when fine).</summary>
    public static Option<double> Double(
        string name, string description, double defaultValue, double min, double max, Func<double, string?>? check = null)
    {
        return new Option<double>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var value = ParseInRange(result, name, min, max, static (string s, out double v) =>
                    double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v));
                if (!result.Errors.Any() && check?.Invoke(value) is { } problem)
                {
                    result.AddError(problem);
                }

                return value;
            },
        };
    }

    /// <summary>A duration such as <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c> (a bare number is seconds).</summary>
    public static Option<TimeSpan?> OptionalDuration(string name, string description, TimeSpan min, TimeSpan max) => new(name)
    {
        Description = description,
        HelpName = "duration",
        CustomParser = result => ParseInRange<TimeSpan>(result, name, min, max, DurationText.TryParse),
    };

    delegate bool TryParse<T>(string text, out T value);

    static T ParseInRange<T>(ArgumentResult result, string name, T min, T max, TryParse<T> tryParse)
        where T : struct, IComparable<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (!tryParse(text, out var value))
        {
            result.AddError($"{name}: '{text}' is not a valid value{Expected<T>()}.");
            return default;
        }

        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            result.AddError($"{name} must be between {Show(min)} and {Show(max)} (got {text}).");
            return default;
        }

        return value;
    }

    static string Expected<T>() => typeof(T) == typeof(TimeSpan) ? " (use a duration like 500ms, 30s, 5m or 1h)" : string.Empty;

    static string Show<T>(T value) => value is TimeSpan span ? DurationText.Format(span) : Convert.ToString(value, CultureInfo.InvariantCulture)!;
}
