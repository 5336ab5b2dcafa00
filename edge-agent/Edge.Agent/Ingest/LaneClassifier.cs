using System.Collections.Concurrent;
using Edge.Agent.Journal;
using Edge.Contracts.Payloads;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Ingest;

/// <summary>
/// Decides a reading's lane. Urgent: an oxygen alarm code, an ECG arrhythmia other than "none", or a CPAP reading
/// outside the device's current alert thresholds (its pushed config, or the Agent:Lanes defaults until one arrives).
/// </summary>
public sealed class LaneClassifier(IOptions<LaneOptions> options)
{
    private readonly ConcurrentDictionary<string, CpapThresholds> _cpap = new(StringComparer.Ordinal);
    private readonly CpapThresholds _defaults = new(options.Value.CpapLeakThreshold, options.Value.CpapRrLow, options.Value.CpapRrHigh);

    /// <summary>Uses a device's configured thresholds from now on (called when its config is applied).</summary>
    public void SetCpapThresholds(string serial, CpapThresholds thresholds) => _cpap[serial] = thresholds;

    public Lane Classify(Telemetry reading) => reading switch
    {
        OxygenTelemetry oxygen => oxygen.Metrics.AlarmCode is null ? Lane.Routine : Lane.Urgent,
        EcgTelemetry ecg => string.Equals(ecg.Metrics.Arrhythmia, "none", StringComparison.OrdinalIgnoreCase) ? Lane.Routine : Lane.Urgent,
        CpapTelemetry cpap => IsOutside(cpap.Metrics, _cpap.GetValueOrDefault(cpap.Serial, _defaults)) ? Lane.Urgent : Lane.Routine,
        _ => Lane.Routine,
    };

    private static bool IsOutside(CpapMetrics metrics, CpapThresholds limits) =>
        metrics.LeakRateLpm > limits.LeakThreshold ||
        metrics.RespiratoryRate < limits.RrLow ||
        metrics.RespiratoryRate > limits.RrHigh;
}

/// <summary>A CPAP device's alert thresholds (from its config's <c>alerts</c>).</summary>
public sealed record CpapThresholds(double LeakThreshold, double RrLow, double RrHigh);
