using Edge.Hosting.Metrics;

namespace Edge.Agent.Hosting;

/// <summary>The agent's version, as the build stamped it (the package version on a gateway).</summary>
internal static class AgentVersion
{
    public static string Current { get; } = ProcessInfoMetrics.VersionOf(typeof(AgentVersion).Assembly);
}
