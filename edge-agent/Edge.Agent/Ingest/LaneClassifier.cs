using System.Collections.Concurrent;
using Edge.Agent.Journal;
using Edge.Contracts.Payloads;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Ingest;

/// <summary>
/// Decides a reading's lane. Urgent: an oxygen alarm code, an ECG arrhythmia other than "none", or a CPAP reading
/// outside the device's current alert thresholds (its pushed config, or the Agent:Lanes defaults until one arrives).
/// The rule itself is <see cref="LaneRules"/>, shared with the cloud worker, which classifies every reading again.
/// </summary>
internal sealed class LaneClassifier(IOptions<LaneOptions> options)
{
    private readonly ConcurrentDictionary<string, CpapLaneThresholds> _cpap = new(StringComparer.Ordinal);
    private readonly CpapLaneThresholds _defaults = new(options.Value.CpapLeakThreshold, options.Value.CpapRrLow, options.Value.CpapRrHigh);

    /// <summary>Uses a device's configured thresholds from now on (called when its config is applied).</summary>
    public void SetCpapThresholds(string serial, CpapThresholds thresholds) =>
        _cpap[serial] = new CpapLaneThresholds(thresholds.LeakThreshold, thresholds.RrLow, thresholds.RrHigh);

    public Lane Classify(Telemetry reading) =>
        LaneRules.IsUrgent(reading, reading is CpapTelemetry cpap ? _cpap.GetValueOrDefault(cpap.Serial, _defaults) : _defaults) ? Lane.Urgent : Lane.Routine;
}

/// <summary>A CPAP device's alert thresholds (from its config's <c>alerts</c>).</summary>
internal sealed record CpapThresholds(double LeakThreshold, double RrLow, double RrHigh);
