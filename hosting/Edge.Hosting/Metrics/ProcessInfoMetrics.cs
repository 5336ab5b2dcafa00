using System.Diagnostics.Metrics;
using System.Reflection;

namespace Edge.Hosting.Metrics;

/// <summary>
/// <c>{prefix}_info{version} 1</c> and <c>{prefix}_uptime_seconds</c> for a cloud process: which build answers, and a
/// drop in uptime shows a restart. (The agent's own pair also carries its gateway id: Edge.Agent.Metrics.HostMetrics.)
/// </summary>
public static class ProcessInfoMetrics
{
    /// <summary>The informational version the build stamped on <paramref name="assembly"/>, or 0.0.0.</summary>
    public static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static void Add(Meter meter, string prefix, string version, TimeProvider time)
    {
        var started = time.GetTimestamp();
        meter.CreateObservableGauge($"{prefix}.uptime", () => time.GetElapsedTime(started).TotalSeconds, unit: "s", description: "Time since the process started");
        meter.CreateObservableGauge($"{prefix}.info", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", version)), description: "The process's version (always 1)");
    }
}
