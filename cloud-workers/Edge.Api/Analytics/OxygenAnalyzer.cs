using Edge.Storage.Analytics;

namespace Edge.Api.Analytics;

/// <summary>Oxygen therapy from hourly rollups: use per UTC day, mean flow, minutes below the purity floor, alarms.</summary>
internal static class OxygenAnalyzer
{
    public static OxygenAnalytics Analyze(IReadOnlyList<OxygenHour> hours, DateTimeOffset from, DateTimeOffset to, DateOnly? maintenanceDue)
    {
        var days = new List<OxygenDay>();
        var byDay = hours.GroupBy(h => new DateTimeOffset(h.Hour.UtcDateTime.Date, TimeSpan.Zero)).ToDictionary(g => g.Key, g => g.ToList());
        double wholeDayUse = 0;
        for (var day = FirstMidnight(from); day + TimeSpan.FromDays(1) <= to; day += TimeSpan.FromDays(1))
        {
            var inDay = byDay.TryGetValue(day, out var list) ? list : [];
            var use = inDay.Sum(h => (long)h.UseSeconds);
            wholeDayUse += use;
            days.Add(new OxygenDay(day, use / 3600.0, CpapAnalyzer.Mean(inDay.Sum(h => h.FlowSum), inDay.Sum(h => h.FlowCount)),
                inDay.Sum(h => (long)h.LowPuritySeconds) / 60.0, inDay.Sum(h => h.Alarms.Values.Sum())));
        }

        var alarms = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var hour in hours)
        {
            foreach (var (code, count) in hour.Alarms)
            {
                alarms[code] = alarms.GetValueOrDefault(code) + count;
            }
        }
        var summary = new OxygenSummary(
            days.Count,
            hours.Sum(h => (long)h.UseSeconds) / 3600.0,
            days.Count == 0 ? 0 : wholeDayUse / 3600.0 / days.Count,
            CpapAnalyzer.Mean(hours.Sum(h => h.FlowSum), hours.Sum(h => h.FlowCount)),
            hours.Sum(h => (long)h.LowPuritySeconds) / 60.0,
            RollupThresholds.PurityFloorPct,
            [.. alarms.OrderByDescending(a => a.Value).ThenBy(a => a.Key, StringComparer.Ordinal).Select(a => new AlarmCount(a.Key, a.Value))],
            maintenanceDue?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            maintenanceDue is { } due ? due.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) < to.UtcDateTime : null);
        return new OxygenAnalytics(summary, days);
    }

    public static IEnumerable<ConcernReason> Concerns(OxygenSummary summary, long readings)
    {
        if (readings == 0)
        {
            yield return new ConcernReason("no_data", 1, "No readings in the window.");
        }
        if (summary.MinutesBelowPurity > 0)
        {
            yield return new ConcernReason("purity_low", 3,
                FormattableString.Invariant($"{summary.MinutesBelowPurity:0} minutes in use below {summary.PurityThresholdPct} % oxygen."));
        }
        var alarmCount = summary.Alarms.Sum(a => a.Count);
        if (alarmCount > 0)
        {
            yield return new ConcernReason("alarms", 1, FormattableString.Invariant($"{alarmCount} alarm readings ({string.Join(", ", summary.Alarms.Select(a => a.Code))})."));
        }
        if (summary.MaintenanceOverdue == true)
        {
            yield return new ConcernReason("maintenance_due", 1, $"Maintenance was due on {summary.MaintenanceDueDate}.");
        }
    }

    private static DateTimeOffset FirstMidnight(DateTimeOffset from)
    {
        var utc = from.ToUniversalTime();
        var midnight = new DateTimeOffset(utc.UtcDateTime.Date, TimeSpan.Zero);
        return midnight >= utc ? midnight : midnight.AddDays(1);
    }
}
