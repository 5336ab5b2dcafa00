namespace Edge.Storage.Alerts;

/// <summary>One alert raised by a stored reading that crossed a rule, as kept in the <c>alerts</c> table.</summary>
/// <param name="Id">Deterministic: <see cref="AlertId.From"/>(reading id, rule), so a re-sent batch raises nothing twice.</param>
/// <param name="Serial">The device serial.</param>
/// <param name="Kind">The device kind as the registry spells it: <c>cpap</c>, <c>bipap</c>, <c>oxygen</c> or <c>ecg</c>.</param>
/// <param name="ClinicId">The device's clinic in the registry; null for a device the registry does not know.</param>
/// <param name="GatewayId">The gateway that journaled the reading.</param>
/// <param name="ReadingId">The reading that raised it.</param>
/// <param name="Rule">One of <see cref="AlertRuleNames"/>, e.g. <c>cpap.leak_high</c>.</param>
/// <param name="Severity"><see cref="AlertSeverity.Critical"/> or <see cref="AlertSeverity.Warning"/>.</param>
/// <param name="Message">One line a clinician can read, e.g. "Leak 31.5 L/min above threshold 24 L/min".</param>
/// <param name="Value">The measured value that crossed the threshold; null for rules without one (alarm code, arrhythmia).</param>
/// <param name="Threshold">The threshold it crossed; null for rules without one.</param>
/// <param name="Detail">What the device reported for rules without a number: the alarm code or the arrhythmia name.</param>
/// <param name="ConfigVersion">The device config version the threshold came from; null when it came from the defaults or the rule has no threshold.</param>
/// <param name="DeviceTime">The reading's own timestamp (device clock).</param>
/// <param name="CreatedAt">When the cloud raised it; lists are ordered and filtered by this.</param>
public sealed record Alert(
    Guid Id,
    string Serial,
    string Kind,
    string? ClinicId,
    string GatewayId,
    Guid ReadingId,
    string Rule,
    string Severity,
    string Message,
    double? Value,
    double? Threshold,
    string? Detail,
    int? ConfigVersion,
    DateTimeOffset DeviceTime,
    DateTimeOffset CreatedAt);

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

    /// <summary>Every rule, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [CpapLeakHigh, CpapRrLow, CpapRrHigh, OxygenPurityLow, OxygenAlarm, EcgArrhythmia, EcgHrLow, EcgHrHigh];

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
