using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Ingest.Alerts;

/// <summary>
/// The worker's periodic look for alerts no reading raises: maintenance due and silent gateways (configuration section
/// <c>Ingest:Alerts</c>).
/// </summary>
internal sealed class AlertSweepOptions
{
    public const string SectionName = "Ingest:Alerts";

    /// <summary>
    /// Seconds between sweeps. Default 300: a silent gateway is noticed within five minutes of its threshold, and a due
    /// date within five minutes of midnight; each sweep is two indexed registry queries, whatever the fleet's size.
    /// </summary>
    [SettingRange(5, 86_400, ErrorMessage = "Ingest:Alerts:SweepIntervalSeconds must be between 5 and 86400.")]
    public int SweepIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// An oxygen concentrator's <c>maintenance_due_date</c> this many days ahead or closer (or past) raises
    /// <c>maintenance_due</c>. Default 7: a week to book the visit. 0 = on the due date itself.
    /// </summary>
    [SettingRange(0, 365, ErrorMessage = "Ingest:Alerts:MaintenanceDueDays must be between 0 and 365.")]
    public int MaintenanceDueDays { get; set; } = 7;

    /// <summary>
    /// An active gateway not heard from for longer than this (seconds) raises <c>gateway_silent</c>. Default 900
    /// (15 minutes): a gateway uploads at least every few seconds while readings flow and touches
    /// <c>gateways.last_seen_at</c> every 30 s at most, so 15 minutes of nothing is an outage, not a quiet night; and a
    /// gateway restart or a short uplink cut stays below it. At least 120, four times the 30 s the workers touch at.
    /// </summary>
    [SettingRange(120, 604_800, ErrorMessage = "Ingest:Alerts:GatewaySilentAfterSeconds must be between 120 and 604800.")]
    public int GatewaySilentAfterSeconds { get; set; } = 900;
}
