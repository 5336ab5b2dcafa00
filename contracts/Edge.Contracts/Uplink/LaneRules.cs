using Edge.Contracts.Payloads;

namespace Edge.Contracts.Uplink;

/// <summary>A CPAP/BiPAP device's alert thresholds as the lane rule reads them (its config's <c>alerts</c>).</summary>
/// <param name="LeakThreshold">Leak above this (L/min) is urgent.</param>
/// <param name="RrLow">Respiratory rate below this is urgent.</param>
/// <param name="RrHigh">Respiratory rate above this is urgent.</param>
public sealed record CpapLaneThresholds(double LeakThreshold, double RrLow, double RrHigh)
{
    /// <summary>The seed configuration's values, used until a device has a config of its own.</summary>
    public static readonly CpapLaneThresholds Defaults = new(30, 10, 26);
}

/// <summary>
/// Which lane a reading belongs in, from its payload alone (and a CPAP device's thresholds): the agent journals by it,
/// and the cloud worker applies it again, because a gateway is never trusted to say what is urgent.
/// Urgent: an oxygen alarm code, an ECG arrhythmia other than "none" (any case), a CPAP reading outside its thresholds.
/// </summary>
public static class LaneRules
{
    public static bool IsUrgent(Telemetry reading, CpapLaneThresholds cpap) => reading switch
    {
        OxygenTelemetry oxygen => oxygen.Metrics.AlarmCode is not null,
        EcgTelemetry ecg => !string.Equals(ecg.Metrics.Arrhythmia, "none", StringComparison.OrdinalIgnoreCase),
        CpapTelemetry c => c.Metrics.LeakRateLpm > cpap.LeakThreshold || c.Metrics.RespiratoryRate < cpap.RrLow || c.Metrics.RespiratoryRate > cpap.RrHigh,
        _ => false,
    };

    /// <summary>The lane's wire name (<see cref="BatchLanes"/>).</summary>
    public static string Lane(Telemetry reading, CpapLaneThresholds cpap) => IsUrgent(reading, cpap) ? BatchLanes.Urgent : BatchLanes.Routine;
}
