using System.Diagnostics.Metrics;

namespace Edge.Hosting.Metrics;

/// <summary>
/// Running counts keyed by one tag (a reason code, a shed reason) as observable-counter measurements. The tag values
/// known in advance are reported at zero before their first count, so a monitoring system sees that first one as an
/// increase: a series that first appears at 1 shows none.
/// </summary>
public static class CountsByTag
{
    public static List<Measurement<long>> Measure(IReadOnlyDictionary<string, long> counts, IEnumerable<string> known, string tag) =>
        [.. known.Union(counts.Keys, StringComparer.Ordinal)
            .Select(value => new Measurement<long>(counts.GetValueOrDefault(value), new KeyValuePair<string, object?>(tag, value)))];
}
