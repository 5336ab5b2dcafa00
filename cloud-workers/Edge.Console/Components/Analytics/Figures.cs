using System.Globalization;
using Edge.Console.Api;

namespace Edge.Console.Components.Analytics;

/// <summary>The analytics numbers as a clinician reads them: units, rounding, and "—" where the API has none.</summary>
internal static class Figures
{
    public static string Number(double? value, string unit) =>
        value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.#} {unit}") : "—";

    public static string Hours(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:0.0} h");

    public static string Percent(double? share) =>
        share is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s * 100:0.#} %") : "—";

    /// <summary>The payers' rule: ≥ 4 h on ≥ 70 % of the nights of some 30-night window (needs 30 nights).</summary>
    public static string Rule(CpapSummary cpap) => cpap switch
    {
        { MeetsAdherenceRule: null } => "fewer than 30 nights",
        { MeetsAdherenceRule: true, Best30Days: { } best } => $"met ({best.AdherentNights} of {best.Nights} nights)",
        { Best30Days: { } best } => $"not met (best {best.AdherentNights} of {best.Nights} nights)",
        _ => cpap.MeetsAdherenceRule == true ? "met" : "not met",
    };

    public static string Alarms(IReadOnlyList<AlarmCount> alarms) =>
        alarms.Count == 0 ? "none" : string.Join(", ", alarms.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Code} × {a.Count}")));

    public static string Maintenance(OxygenSummary oxygen) => oxygen switch
    {
        { MaintenanceDueDate: null } => "—",
        { MaintenanceOverdue: true } => $"{oxygen.MaintenanceDueDate} (overdue)",
        _ => oxygen.MaintenanceDueDate!,
    };

    public static string Burden(IReadOnlyList<ArrhythmiaBurden> burdens) =>
        burdens.Count == 0 ? "none" : string.Join(", ", burdens.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Type} {b.BurdenPct:0.#} %")));
}
