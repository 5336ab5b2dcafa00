using System.Diagnostics.Metrics;
using Edge.Agent.Hosting;

namespace Edge.Agent.Metrics;

/// <summary>
/// Which agent this is and how long it has run: <c>edge_agent_info{gateway_id,version} 1</c> lets a dashboard join every
/// other series to the gateway's id, and a drop in uptime shows a restart.
/// </summary>
internal sealed class HostMetrics : IDisposable
{
    public HostMetrics(AgentClock clock, string gatewayId)
    {
        Meter.CreateObservableGauge("edge.agent.uptime", () => clock.Uptime.TotalSeconds, unit: "s", description: "Time since the agent started");
        Meter.CreateObservableGauge(
            "edge.agent.info",
            () => new Measurement<int>(1, new("gateway_id", gatewayId), new("version", AgentVersion.Current)),
            description: "The gateway id and the agent's version (always 1)");
    }

    public Meter Meter { get; } = new("ClinicEdge.Agent.Host");

    public void Dispose() => Meter.Dispose();
}
