using Edge.Storage.Analytics;

namespace Edge.Api.Analytics;

/// <summary>
/// CPAP/BiPAP adherence from hourly rollups. A night is the UTC noon-to-noon period (the registry has no clinic time
/// zone); usage is the rollups' minutes in use. Adherent night: at least 4 hours. The payers' rule: adherent on at least
/// 70 % of the nights of a 30-night window.
/// </summary>
internal static class CpapAnalyzer
{
    public static readonly TimeSpan AdherentUsage = TimeSpan.FromHours(4);
    public const double AdherentShare = 0.7;
    public const int RuleNights = 30;

    /// <summary>More than this share of the time in use with a large leak is a concern.</summary>
    public const double HighLeakShare = 0.1;

    private static readonly TimeSpan Noon = TimeSpan.FromHours(12);

    public static CpapAnalytics Analyze(IReadOnlyList<CpapHour> hours, DateTimeOffset from, DateTimeOffset to)
    {
        var byHour = hours.ToDictionary(h => h.Hour);
        var nights = new List<CpapNight>();
        double pressureSum = 0, leakSum = 0;
        long pressureCount = 0, leakCount = 0, usageSeconds = 0, largeLeakSeconds = 0;
        for (var start = FirstNoon(from); start + TimeSpan.FromDays(1) <= to; start += TimeSpan.FromDays(1))
        {
            double nightPressure = 0, nightLeak = 0;
            long nightPressureCount = 0, nightLeakCount = 0, nightUsage = 0, nightLargeLeak = 0;
            for (var hour = start; hour < start + TimeSpan.FromDays(1); hour += TimeSpan.FromHours(1))
            {
                if (!byHour.TryGetValue(hour, out var h))
                {
                    continue;
                }
                nightPressure += h.PressureSum;
                nightPressureCount += h.PressureCount;
                nightLeak += h.LeakSum;
                nightLeakCount += h.LeakCount;
                nightUsage += h.UsageSeconds;
                nightLargeLeak += h.LargeLeakSeconds;
            }
            nights.Add(new CpapNight(
                start,
                nightUsage / 3600.0,
                nightUsage >= AdherentUsage.TotalSeconds,
                Mean(nightPressure, nightPressureCount),
                Mean(nightLeak, nightLeakCount),
                nightLargeLeak / 60.0));
            pressureSum += nightPressure;
            pressureCount += nightPressureCount;
            leakSum += nightLeak;
            leakCount += nightLeakCount;
            usageSeconds += nightUsage;
            largeLeakSeconds += nightLargeLeak;
        }

        var adherent = nights.Count(n => n.Adherent);
        var last = nights.Count >= RuleNights ? Window(nights, nights.Count - RuleNights) : null;
        AdherenceWindow? best = null;
        for (var first = 0; first + RuleNights <= nights.Count; first++)
        {
            var window = Window(nights, first);
            if (best is null || window.AdherentNights > best.AdherentNights)
            {
                best = window;
            }
        }
        var summary = new CpapSummary(
            nights.Count,
            adherent,
            nights.Count == 0 ? 0 : (double)adherent / nights.Count,
            nights.Count == 0 ? 0 : usageSeconds / 3600.0 / nights.Count,
            last,
            best,
            best?.Adherent,
            Mean(pressureSum, pressureCount),
            Mean(leakSum, leakCount),
            usageSeconds == 0 ? 0 : (double)largeLeakSeconds / usageSeconds,
            RollupThresholds.LargeLeakLpm);
        return new CpapAnalytics(summary, nights);
    }

    /// <summary>Why a device's CPAP numbers are a concern, weighted.</summary>
    public static IEnumerable<ConcernReason> Concerns(CpapSummary summary)
    {
        var share = summary.Best30Days?.Share ?? summary.AdherenceShare;
        if (summary.MeetsAdherenceRule == false || (summary.MeetsAdherenceRule is null && share < AdherentShare))
        {
            var window = summary.Best30Days is null ? $"{summary.Nights} nights" : "its best 30 nights";
            var adherentNights = summary.Best30Days?.AdherentNights ?? summary.AdherentNights;
            var nights = summary.Best30Days?.Nights ?? summary.Nights;
            yield return new ConcernReason("non_adherent", 3,
                FormattableString.Invariant($"At least 4 h on {adherentNights} of {nights} nights ({share:P0}) in {window}; payers require 70 %."));
        }
        if (summary.LargeLeakShare > HighLeakShare)
        {
            yield return new ConcernReason("high_leak", 1,
                FormattableString.Invariant($"Leak above {summary.LargeLeakThresholdLpm} L/min for {summary.LargeLeakShare:P0} of the time in use."));
        }
    }

    private static AdherenceWindow Window(List<CpapNight> nights, int first)
    {
        var adherent = 0;
        for (var i = first; i < first + RuleNights; i++)
        {
            adherent += nights[i].Adherent ? 1 : 0;
        }
        var share = (double)adherent / RuleNights;
        return new AdherenceWindow(nights[first].NightStart, nights[first + RuleNights - 1].NightStart.AddDays(1), RuleNights, adherent, share,
            adherent >= AdherentShare * RuleNights - 1e-9);
    }

    /// <summary>The first UTC noon at or after <paramref name="from"/>.</summary>
    internal static DateTimeOffset FirstNoon(DateTimeOffset from)
    {
        var utc = from.ToUniversalTime();
        var noon = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero) + Noon;
        return noon >= utc ? noon : noon.AddDays(1);
    }

    internal static double? Mean(double sum, long count) => count == 0 ? null : sum / count;
}
