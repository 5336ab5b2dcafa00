using Edge.Agent.Ingest;
using Edge.Contracts.Payloads;

namespace Edge.Agent.Downlink;

/// <summary>Feeds a device's current desired config into the urgent-lane rules (CPAP leak and respiratory-rate alerts).</summary>
internal sealed class DeviceThresholds(LaneClassifier lanes)
{
    public void Apply(DeviceConfigMessage config)
    {
        if (config is CpapConfigMessage cpap)
        {
            var alerts = cpap.Config.Alerts;
            lanes.SetCpapThresholds(cpap.Serial, new CpapThresholds(alerts.LeakThreshold, alerts.RrLow, alerts.RrHigh));
        }
    }
}
