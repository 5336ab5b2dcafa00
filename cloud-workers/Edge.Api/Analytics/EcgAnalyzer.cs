using Edge.Storage.Analytics;

namespace Edge.Api.Analytics;

/// <summary>ECG numbers from hourly rollups: heart-rate trend, arrhythmia burden, HRV, QTc (Bazett) and signal quality.</summary>
internal static class EcgAnalyzer
{
    /// <summary>At least this share of monitored time in arrhythmia is a high burden (a PVC burden above 10 % is the usual
    /// threshold for PVC-induced cardiomyopathy); any smaller burden is still named, with less weight.</summary>
    public const double HighBurdenPct = 10;

    /// <summary>Less than this share of readings with a good signal makes the numbers unreliable.</summary>
    public const double PoorSignalShare = 0.8;

    public static EcgAnalytics Analyze(IReadOnlyList<EcgHour> hours)
    {
        var trend = hours.Select(h => new EcgHourTrend(h.Hour, h.Readings, h.HeartRateSum / h.Readings, h.HeartRateMin, h.HeartRateMax)).ToList();
        var readings = hours.Sum(h => h.Readings);
        var monitoredMinutes = hours.Sum(h => (long)h.MonitoredSeconds) / 60.0;

        var minutes = new SortedDictionary<string, (long Readings, double Minutes)>(StringComparer.Ordinal);
        foreach (var hour in hours)
        {
            foreach (var (type, count) in hour.Arrhythmias)
            {
                var (n, m) = minutes.GetValueOrDefault(type);
                minutes[type] = (n + count, m + ((double)count / hour.Readings * hour.MonitoredSeconds / 60.0));
            }
        }
        var burdens = minutes
            .Select(p => new ArrhythmiaBurden(p.Key, p.Value.Readings, p.Value.Minutes, monitoredMinutes == 0 ? 0 : p.Value.Minutes / monitoredMinutes * 100))
            .OrderByDescending(b => b.Minutes).ThenBy(b => b.Type, StringComparer.Ordinal).ToList();

        var summary = new EcgSummary(
            readings,
            monitoredMinutes / 60.0,
            CpapAnalyzer.Mean(hours.Sum(h => h.HeartRateSum), readings),
            hours.Count == 0 ? null : hours.Min(h => h.HeartRateMin),
            hours.Count == 0 ? null : hours.Max(h => h.HeartRateMax),
            burdens,
            monitoredMinutes == 0 ? 0 : burdens.Sum(b => b.Minutes) / monitoredMinutes * 100,
            CpapAnalyzer.Mean(hours.Sum(h => h.HrvSum), hours.Sum(h => h.HrvCount)),
            CpapAnalyzer.Mean(hours.Sum(h => h.QtcSum), hours.Sum(h => h.QtcCount)),
            hours.Sum(h => h.LongQtCount),
            RollupThresholds.LongQtcMs,
            readings == 0 ? null : (double)hours.Sum(h => h.GoodSignal) / readings);
        return new EcgAnalytics(summary, trend);
    }

    public static IEnumerable<ConcernReason> Concerns(EcgSummary summary)
    {
        if (summary.Readings == 0)
        {
            yield return new ConcernReason("no_data", 1, "No readings in the window.");
            yield break;
        }
        if (summary.LongQtCount > 0)
        {
            yield return new ConcernReason("long_qt", 3,
                FormattableString.Invariant($"{summary.LongQtCount} readings with QTc above {summary.LongQtThresholdMs} ms (mean QTc {summary.MeanQtcMs:0} ms)."));
        }
        if (summary.ArrhythmiaBurdenPct >= HighBurdenPct)
        {
            yield return new ConcernReason("high_arrhythmia_burden", 2,
                FormattableString.Invariant($"Arrhythmia during {summary.ArrhythmiaBurdenPct:0.#} % of monitored time ({string.Join(", ", summary.Arrhythmias.Select(a => a.Type))})."));
        }
        else if (summary.ArrhythmiaBurdenPct > 0)
        {
            yield return new ConcernReason("arrhythmia", 1,
                FormattableString.Invariant($"Arrhythmia during {summary.ArrhythmiaBurdenPct:0.#} % of monitored time ({string.Join(", ", summary.Arrhythmias.Select(a => a.Type))})."));
        }
        if (summary.GoodSignalShare < PoorSignalShare)
        {
            yield return new ConcernReason("poor_signal", 1, FormattableString.Invariant($"Good signal in only {summary.GoodSignalShare:P0} of readings."));
        }
    }
}
