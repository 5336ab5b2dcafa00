using System.Text.Json.Serialization;

namespace Edge.Api.Analytics;

/// <summary>
/// A device's analytics over a window (docs/api.md "Analytics"): exactly one of <see cref="Cpap"/>, <see cref="Oxygen"/>
/// and <see cref="Ecg"/> is set, by the device's kind (BiPAP devices have the CPAP shape).
/// </summary>
internal sealed record DeviceAnalyticsResponse(
    string Serial, string Kind, DateTimeOffset From, DateTimeOffset To, CpapAnalytics? Cpap, OxygenAnalytics? Oxygen, EcgAnalytics? Ecg);

/// <summary>A clinic's devices of one kind with their headline numbers, most concerning first, keyset-paged.</summary>
internal sealed record ClinicAnalyticsResponse(
    string ClinicId, string Kind, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ClinicDeviceAnalytics> Items, string? NextCursor);

/// <summary>One row of the clinic table: the device, its concern score and reasons, and the summary of its kind.</summary>
/// <param name="Rank">1 for the most concerning device of the clinic in the window; ties are broken by serial.</param>
/// <param name="ConcernScore">The sum of the reasons' weights; 0: nothing to look at.</param>
internal sealed record ClinicDeviceAnalytics(
    int Rank, string Serial, string Kind, string? GatewayId, int ConcernScore, IReadOnlyList<ConcernReason> Reasons,
    CpapSummary? Cpap, OxygenSummary? Oxygen, EcgSummary? Ecg);

/// <summary>Why a device is ranked where it is: a stable code, its weight in the score, and a line for a clinician.</summary>
internal sealed record ConcernReason(string Code, int Weight, string Message);

/// <summary>CPAP/BiPAP adherence and therapy numbers, and every night of the window.</summary>
internal sealed record CpapAnalytics(CpapSummary Summary, IReadOnlyList<CpapNight> Nights);

/// <summary>One night: the UTC noon-to-noon period starting at <see cref="NightStart"/>.</summary>
/// <param name="UsageHours">Hours of therapy: minutes with a reading at a pressure above 0, divided by 60.</param>
/// <param name="Adherent">At least 4 hours of usage.</param>
/// <param name="MeanPressureCmH2O">Mean pressure while in use; null for a night without use.</param>
/// <param name="MeanLeakLpm">Mean leak while in use; null for a night without use.</param>
/// <param name="LargeLeakMinutes">Minutes in use with a leak above the large-leak threshold.</param>
internal sealed record CpapNight(
    DateTimeOffset NightStart, double UsageHours, bool Adherent,
    [property: JsonPropertyName("mean_pressure_cm_h2o")] double? MeanPressureCmH2O, double? MeanLeakLpm, double LargeLeakMinutes);

/// <summary>The window's CPAP numbers.</summary>
/// <param name="Nights">Nights wholly inside the window.</param>
/// <param name="AdherentNights">Nights with at least 4 hours of usage.</param>
/// <param name="AdherenceShare">AdherentNights / Nights (0 when there are no nights).</param>
/// <param name="MeanUsageHours">Mean usage per night, nights without use included.</param>
/// <param name="Last30Days">The last 30 nights of the window; null when it has fewer than 30.</param>
/// <param name="Best30Days">The 30 consecutive nights of the window with the most adherent nights (the earliest of equals); null when it has fewer than 30.</param>
/// <param name="MeetsAdherenceRule">The payers' rule: at least 4 hours on at least 70 % of the nights of some 30-night window (Best30Days); null when the window has fewer than 30 nights.</param>
/// <param name="LargeLeakShare">Minutes in use with a large leak / minutes in use (0 without use).</param>
/// <param name="LargeLeakThresholdLpm">The leak above which a minute counts as large leak.</param>
internal sealed record CpapSummary(
    int Nights, int AdherentNights, double AdherenceShare, double MeanUsageHours,
    [property: JsonPropertyName("last_30_days")] AdherenceWindow? Last30Days, [property: JsonPropertyName("best_30_days")] AdherenceWindow? Best30Days,
    bool? MeetsAdherenceRule, [property: JsonPropertyName("mean_pressure_cm_h2o")] double? MeanPressureCmH2O, double? MeanLeakLpm,
    double LargeLeakShare, double LargeLeakThresholdLpm);

/// <summary>30 consecutive nights and how many of them had at least 4 hours of usage.</summary>
/// <param name="From">The start of the first night.</param>
/// <param name="To">The end of the last night.</param>
/// <param name="Adherent">Share is at least 0.7.</param>
internal sealed record AdherenceWindow(DateTimeOffset From, DateTimeOffset To, int Nights, int AdherentNights, double Share, bool Adherent);

/// <summary>Oxygen therapy numbers and every UTC day of the window.</summary>
internal sealed record OxygenAnalytics(OxygenSummary Summary, IReadOnlyList<OxygenDay> Days);

/// <summary>One UTC day.</summary>
/// <param name="UseHours">Minutes with a reading at a flow above 0, divided by 60.</param>
/// <param name="MeanFlowLpm">Mean flow while in use; null for a day without use.</param>
/// <param name="MinutesBelowPurity">Minutes in use with a reading below the purity threshold.</param>
/// <param name="Alarms">Readings with an alarm code.</param>
internal sealed record OxygenDay(DateTimeOffset Day, double UseHours, double? MeanFlowLpm, double MinutesBelowPurity, long Alarms);

/// <summary>The window's oxygen numbers.</summary>
/// <param name="Days">UTC days wholly inside the window.</param>
/// <param name="UseHours">Hours of use over the window (every hour of it, whole days or not).</param>
/// <param name="MeanUseHoursPerDay">Hours of use of the whole days / Days (0 without days).</param>
/// <param name="PurityThresholdPct">The purity below which a minute counts (the oxygen.purity_low alert's default floor).</param>
/// <param name="Alarms">Readings per alarm code, most frequent first.</param>
/// <param name="MaintenanceDueDate">maintenance_due_date (yyyy-MM-dd) of the device's latest config the caller may read; null when none.</param>
/// <param name="MaintenanceOverdue">The due date is before the end of the window; null without a due date.</param>
internal sealed record OxygenSummary(
    int Days, double UseHours, double MeanUseHoursPerDay, double? MeanFlowLpm, double MinutesBelowPurity, double PurityThresholdPct,
    IReadOnlyList<AlarmCount> Alarms, string? MaintenanceDueDate, bool? MaintenanceOverdue);

/// <summary>How many readings carried one alarm code.</summary>
internal sealed record AlarmCount(string Code, long Count);

/// <summary>ECG numbers and the heart-rate trend per UTC hour.</summary>
internal sealed record EcgAnalytics(EcgSummary Summary, IReadOnlyList<EcgHourTrend> Hours);

/// <summary>One UTC hour of the heart-rate trend.</summary>
internal sealed record EcgHourTrend(DateTimeOffset Hour, long Readings, double MeanHeartRateBpm, double MinHeartRateBpm, double MaxHeartRateBpm);

/// <summary>The window's ECG numbers.</summary>
/// <param name="MonitoredHours">Minutes with at least one reading, divided by 60.</param>
/// <param name="Arrhythmias">Per arrhythmia type (lower case), largest burden first.</param>
/// <param name="ArrhythmiaBurdenPct">All arrhythmias together, % of monitored time.</param>
/// <param name="MeanHrvRmssdMs">Mean RMSSD of the readings that carry one; null when none does.</param>
/// <param name="MeanQtcMs">Mean QTc (Bazett) of the readings with a heart rate and QT above 0; null when none.</param>
/// <param name="LongQtCount">Readings with a QTc above <see cref="LongQtThresholdMs"/>.</param>
/// <param name="GoodSignalShare">Readings with signal quality "good" / readings; null without readings.</param>
internal sealed record EcgSummary(
    long Readings, double MonitoredHours, double? MeanHeartRateBpm, double? MinHeartRateBpm, double? MaxHeartRateBpm,
    IReadOnlyList<ArrhythmiaBurden> Arrhythmias, double ArrhythmiaBurdenPct, double? MeanHrvRmssdMs, double? MeanQtcMs,
    long LongQtCount, double LongQtThresholdMs, double? GoodSignalShare);

/// <summary>
/// One arrhythmia type's share of the monitored time: in each hour, the share of the hour's readings that report it times
/// the hour's monitored minutes, summed over the window.
/// </summary>
internal sealed record ArrhythmiaBurden(string Type, long Readings, double Minutes, double BurdenPct);
