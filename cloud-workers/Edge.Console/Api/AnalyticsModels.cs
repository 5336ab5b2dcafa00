using System.Diagnostics.CodeAnalysis;

namespace Edge.Console.Api;

// The API's analytics answers (GET /v1/devices/{serial}/analytics, GET /v1/clinics/{id}/analytics), as the console
// reads them. docs/api.md "Analytics" says what each number means; names follow the API's snake_case. Public, as the
// analytics components take them as parameters (PublicForComponents).

/// <summary>A device's analytics over a window: exactly one of Cpap, Oxygen and Ecg is set, by the device's kind.</summary>
[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record DeviceAnalytics(
    string Serial, string Kind, DateTimeOffset From, DateTimeOffset To, CpapAnalytics? Cpap, OxygenAnalytics? Oxygen, EcgAnalytics? Ecg);

/// <summary>A clinic's devices of one kind, most concerning first, keyset-paged.</summary>
[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record ClinicAnalytics(
    string ClinicId, string Kind, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ClinicDeviceAnalytics> Items, string? NextCursor);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record ClinicDeviceAnalytics(
    int Rank, string Serial, string Kind, string? GatewayId, int ConcernScore, IReadOnlyList<ConcernReason> Reasons,
    CpapSummary? Cpap, OxygenSummary? Oxygen, EcgSummary? Ecg);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record ConcernReason(string Code, int Weight, string Message);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record CpapAnalytics(CpapSummary Summary, IReadOnlyList<CpapNight> Nights);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record CpapNight(
    DateTimeOffset NightStart, double UsageHours, bool Adherent,
    [property: System.Text.Json.Serialization.JsonPropertyName("mean_pressure_cm_h2o")] double? MeanPressureCmH2O,
    double? MeanLeakLpm, double LargeLeakMinutes);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record CpapSummary(
    int Nights, int AdherentNights, double AdherenceShare, double MeanUsageHours,
    [property: System.Text.Json.Serialization.JsonPropertyName("last_30_days")] AdherenceWindow? Last30Days,
    [property: System.Text.Json.Serialization.JsonPropertyName("best_30_days")] AdherenceWindow? Best30Days,
    bool? MeetsAdherenceRule,
    [property: System.Text.Json.Serialization.JsonPropertyName("mean_pressure_cm_h2o")] double? MeanPressureCmH2O,
    double? MeanLeakLpm, double LargeLeakShare, double LargeLeakThresholdLpm);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record AdherenceWindow(DateTimeOffset From, DateTimeOffset To, int Nights, int AdherentNights, double Share, bool Adherent);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record OxygenAnalytics(OxygenSummary Summary, IReadOnlyList<OxygenDay> Days);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record OxygenDay(DateTimeOffset Day, double UseHours, double? MeanFlowLpm, double MinutesBelowPurity, long Alarms);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record OxygenSummary(
    int Days, double UseHours, double MeanUseHoursPerDay, double? MeanFlowLpm, double MinutesBelowPurity, double PurityThresholdPct,
    IReadOnlyList<AlarmCount> Alarms, string? MaintenanceDueDate, bool? MaintenanceOverdue);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record AlarmCount(string Code, long Count);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record EcgAnalytics(EcgSummary Summary, IReadOnlyList<EcgHourTrend> Hours);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record EcgHourTrend(DateTimeOffset Hour, long Readings, double MeanHeartRateBpm, double MinHeartRateBpm, double MaxHeartRateBpm);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record EcgSummary(
    long Readings, double MonitoredHours, double? MeanHeartRateBpm, double? MinHeartRateBpm, double? MaxHeartRateBpm,
    IReadOnlyList<ArrhythmiaBurden> Arrhythmias, double ArrhythmiaBurdenPct, double? MeanHrvRmssdMs, double? MeanQtcMs,
    long LongQtCount, double LongQtThresholdMs, double? GoodSignalShare);

[SuppressMessage("Maintainability", "CA1515", Justification = PublicForComponents.Reason)]
public sealed record ArrhythmiaBurden(string Type, long Readings, double Minutes, double BurdenPct);
