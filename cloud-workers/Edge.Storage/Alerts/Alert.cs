using System.Text.Json.Serialization;

namespace Edge.Storage.Alerts;

/// <summary>One alert, about a reading, a device or a gateway, as kept in the <c>alerts</c> table, with its lifecycle.</summary>
/// <param name="Id">Deterministic: <see cref="AlertId.From"/>(reading id, rule) for a reading's alert, <see cref="AlertId.ForSubject"/>(rule,
/// subject, period) for one about a device or gateway, so a re-sent batch, a second replica or a re-run raises nothing twice.</param>
/// <param name="Serial">The device serial; null for an alert about a gateway.</param>
/// <param name="Kind">The subject's kind: <c>cpap</c>, <c>bipap</c>, <c>oxygen</c>, <c>ecg</c> (the registry's device kinds) or <c>gateway</c>.</param>
/// <param name="ClinicId">The device's (or gateway's) clinic in the registry; null for a device the registry does not know.</param>
/// <param name="GatewayId">The gateway that journaled the reading, or the gateway the alert is about; null for a device alert not tied to a gateway.</param>
/// <param name="ReadingId">The reading that raised it; null for an alert not raised by one reading (maintenance due, gateway silent).</param>
/// <param name="Rule">One of <see cref="AlertRuleNames"/>, e.g. <c>cpap.leak_high</c>.</param>
/// <param name="Severity"><see cref="AlertSeverity.Critical"/> or <see cref="AlertSeverity.Warning"/>.</param>
/// <param name="Message">One line a clinician can read, e.g. "Leak 31.5 L/min above threshold 24 L/min".</param>
/// <param name="Value">The measured value that crossed the threshold; null for rules without one (alarm code, arrhythmia).</param>
/// <param name="Threshold">The threshold it crossed; null for rules without one.</param>
/// <param name="Detail">What the device reported for rules without a number: the alarm code or the arrhythmia name.</param>
/// <param name="ConfigVersion">The device config version the threshold came from; null when it came from the defaults or the rule has no threshold.</param>
/// <param name="DeviceTime">The time the alert is about: the reading's own timestamp (device clock); for <c>maintenance_due</c> the due
/// date (midnight UTC); for <c>gateway_silent</c> the gateway's last contact before the silence.</param>
/// <param name="CreatedAt">When the cloud raised it; lists are ordered and filtered by this.</param>
/// <param name="State"><see cref="AlertStates.Open"/>, <see cref="AlertStates.Acknowledged"/> or <see cref="AlertStates.Resolved"/>.</param>
/// <param name="AcknowledgedBy">Who acknowledged it (the token's subject); null while not acknowledged.</param>
/// <param name="AcknowledgedAt">When (the cloud's clock).</param>
/// <param name="AcknowledgedNote">Their note, at most <see cref="AlertStates.MaxNoteLength"/> characters.</param>
/// <param name="ResolvedBy">Who resolved it: the token's subject, or <c>system</c> when the cloud resolved it (a silent gateway heard again).</param>
/// <param name="ResolvedAt">When (the cloud's clock).</param>
/// <param name="ResolvedNote">Their note, at most <see cref="AlertStates.MaxNoteLength"/> characters.</param>
/// <param name="AcknowledgedByName">The display name of the local account that acknowledged it, added by the API (left out for other subjects and in webhook payloads).</param>
/// <param name="ResolvedByName">The display name of the local account that resolved it, added by the API (left out for other subjects and in webhook payloads).</param>
public sealed record Alert(
    Guid Id,
    string? Serial,
    string Kind,
    string? ClinicId,
    string? GatewayId,
    Guid? ReadingId,
    string Rule,
    string Severity,
    string Message,
    double? Value,
    double? Threshold,
    string? Detail,
    int? ConfigVersion,
    DateTimeOffset DeviceTime,
    DateTimeOffset CreatedAt,
    string State = AlertStates.Open,
    string? AcknowledgedBy = null,
    DateTimeOffset? AcknowledgedAt = null,
    string? AcknowledgedNote = null,
    string? ResolvedBy = null,
    DateTimeOffset? ResolvedAt = null,
    string? ResolvedNote = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AcknowledgedByName = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ResolvedByName = null);

/// <summary>An alert's lifecycle: open → acknowledged → resolved, or open → resolved.</summary>
public static class AlertStates
{
    /// <summary>Raised; nobody has said they are on it.</summary>
    public const string Open = "open";

    /// <summary>Someone has seen it and is on it.</summary>
    public const string Acknowledged = "acknowledged";

    /// <summary>Dealt with, by a person or (a silent gateway heard again) by the cloud.</summary>
    public const string Resolved = "resolved";

    /// <summary>The actor recorded when the cloud itself resolves an alert.</summary>
    public const string System = "system";

    /// <summary>The longest note an acknowledgement or resolution keeps (characters).</summary>
    public const int MaxNoteLength = 1000;

    /// <summary>Every state, in lifecycle order.</summary>
    public static IReadOnlyList<string> All { get; } = [Open, Acknowledged, Resolved];
}

/// <summary>The kinds an alert's subject has: the registry's device kinds, and <c>gateway</c>.</summary>
public static class AlertKinds
{
    public const string Gateway = "gateway";

    /// <summary>Every kind an alert can carry.</summary>
    public static IReadOnlyList<string> All { get; } = ["cpap", "bipap", "oxygen", "ecg", Gateway];
}

/// <summary>Alert severities, as stored and as sent to webhooks.</summary>
public static class AlertSeverity
{
    /// <summary>Someone should look now: the device itself raised an alarm or an arrhythmia, or a patient is getting too little oxygen.</summary>
    public const string Critical = "critical";

    /// <summary>A threshold crossing on one reading; worth a look, often transient (a mask shifted, the patient moved).</summary>
    public const string Warning = "warning";
}

/// <summary>The rule names alerts carry and webhook subscriptions filter on.</summary>
public static class AlertRuleNames
{
    public const string CpapLeakHigh = "cpap.leak_high";
    public const string CpapRrLow = "cpap.rr_low";
    public const string CpapRrHigh = "cpap.rr_high";
    public const string OxygenPurityLow = "oxygen.purity_low";
    public const string OxygenAlarm = "oxygen.alarm";
    public const string EcgArrhythmia = "ecg.arrhythmia";
    public const string EcgHrLow = "ecg.hr_low";
    public const string EcgHrHigh = "ecg.hr_high";

    /// <summary>An oxygen concentrator's config says its maintenance is due within <c>Ingest:Alerts:MaintenanceDueDays</c>, or overdue.</summary>
    public const string MaintenanceDue = "maintenance_due";

    /// <summary>An active gateway has not been heard from for <c>Ingest:Alerts:GatewaySilentAfterSeconds</c>.</summary>
    public const string GatewaySilent = "gateway_silent";

    /// <summary>A device's clock is off from its gateway's by more than <c>Alerts:DeviceClockSkewSeconds</c>.</summary>
    public const string DeviceClockSkew = "device_clock_skew";

    /// <summary>Every rule, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [CpapLeakHigh, CpapRrLow, CpapRrHigh, OxygenPurityLow, OxygenAlarm, EcgArrhythmia, EcgHrLow, EcgHrHigh, MaintenanceDue, GatewaySilent, DeviceClockSkew];

    /// <summary>True for a rule name this build knows.</summary>
    public static bool IsKnown(string? rule)
    {
        foreach (var known in All)
        {
            if (string.Equals(known, rule, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
