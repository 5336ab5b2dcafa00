using System.Diagnostics.Metrics;
using Edge.Api.Live;
using Edge.Hosting.Metrics;

namespace Edge.Api.Hosting;

/// <summary>
/// The API's own figures for Prometheus (<c>edge_api_*</c>, docs/runbooks/monitoring.md). Requests, their
/// status codes and durations per route come from ASP.NET Core's own meters (<c>http_server_request_duration_seconds</c>),
/// which the collector picks up from the host's meter factory.
/// </summary>
public sealed class ApiMetrics : IDisposable
{
    public ApiMetrics(LiveHub live, TimeProvider time)
    {
        ProcessInfoMetrics.Add(Meter, "edge.api", ProcessInfoMetrics.VersionOf(typeof(ApiMetrics).Assembly), time);
        Meter.CreateObservableGauge("edge.api.live.viewers", () => live.Viewers, "{stream}", "Live telemetry streams open now");
        Meter.CreateObservableGauge("edge.api.live.listening", () => live.IsListening ? 1 : 0, description: "1 while the live stream's LISTEN connection to PostgreSQL is up, 0 while it reconnects");
    }

    public Meter Meter { get; } = new("ClinicEdge.Api");

    public void Dispose() => Meter.Dispose();
}
