using System.Diagnostics.Metrics;
using Edge.Api.Live;
using Edge.Hosting.Metrics;

namespace Edge.Api.Hosting;

/// <summary>
/// The API's own figures for Prometheus (<c>edge_api_*</c>, docs/runbooks/monitoring.md). Requests, their
/// status codes and durations per route come from ASP.NET Core's own meters (<c>http_server_request_duration_seconds</c>),
/// which the collector picks up from the host's meter factory.
/// </summary>
internal sealed class ApiMetrics : IHostedService, IDisposable
{
    private readonly Counter<long> _rateLimitRejected;
    private readonly Counter<long> _redisFailures;

    public ApiMetrics(LiveHub live, TimeProvider time)
    {
        _rateLimitRejected = Meter.CreateCounter<long>("edge.api.rate_limit.rejected", "{request}", "Requests and live streams refused with 429 by a rate limit");
        _redisFailures = Meter.CreateCounter<long>("edge.api.rate_limit.redis_failures", "{request}", "Requests counted by this replica alone because the shared Redis did not answer");
        ProcessInfoMetrics.Add(Meter, "edge.api", ProcessInfoMetrics.VersionOf(typeof(ApiMetrics).Assembly), time);
        Meter.CreateObservableGauge("edge.api.live.viewers", () => live.Viewers, "{stream}", "Live telemetry streams open now");
        Meter.CreateObservableGauge("edge.api.live.listening", () => live.IsListening ? 1 : 0, description: "1 while the live stream's LISTEN connection to PostgreSQL is up, 0 while it reconnects");
    }

    public Meter Meter { get; } = new("ClinicEdge.Api");

    /// <summary>A request or live stream refused by a limit: <c>token</c>, <c>address</c> or <c>live_viewers</c>.</summary>
    public void RateLimitRejected(string limit) => _rateLimitRejected.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>A request counted on this replica alone because Redis did not answer.</summary>
    public void RedisFailed() => _redisFailures.Add(1);

    /// <summary>Every counter's series reads 0 from the start (once the listener is there), so increase() sees the first one.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var limit in (string[])["token", "address", "live_viewers"])
        {
            _rateLimitRejected.Add(0, new KeyValuePair<string, object?>("limit", limit));
        }
        _redisFailures.Add(0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => Meter.Dispose();
}
