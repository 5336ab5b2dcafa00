using Edge.Api.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Edge.Api.RateLimit;

/// <summary>
/// The one Redis connection the shared rate limits use, opened at start, and the record of whether Redis answers: a
/// warning when it stops, a note when it is back, each failed count in <c>edge_api_rate_limit_redis_failures_total</c>.
/// </summary>
internal sealed class RateLimitRedis(IOptions<RateLimitOptions> options, ApiMetrics metrics, ILogger<RateLimitRedis> logger) : IHostedService, IAsyncDisposable
{
    private ConnectionMultiplexer? _connection;
    private int _failing;

    /// <summary>The connection; only limiters created after start ask for it (the first request comes after start).</summary>
    public IConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("The rate limits' Redis connection is opened at start.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var configuration = ConfigurationOptions.Parse(settings.Redis!);
        if (!string.IsNullOrWhiteSpace(settings.RedisPasswordFile))
        {
            configuration.Password = (await File.ReadAllTextAsync(settings.RedisPasswordFile, cancellationToken)).Trim();
        }
        // Start even when Redis is down (the limiters fall back to this replica's counts) and keep reconnecting.
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 2000;
        // A request waits at most this long for its count before this replica counts it alone: a slow Redis must not
        // become a slow API.
        configuration.AsyncTimeout = 1000;
        configuration.SyncTimeout = 1000;
        configuration.ClientName = "edge-api";
        _connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        var endpoints = string.Join(", ", configuration.EndPoints.Select(e => e.ToString()));
        if (_connection.IsConnected)
        {
            Log.RateLimitRedisConnected(logger, endpoints);
        }
        else
        {
            Log.RateLimitRedisUnreachableAtStart(logger, endpoints);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A count went through Redis.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            Log.RateLimitRedisRecovered(logger);
        }
    }

    /// <summary>A count could not go through Redis; the caller counts it on this replica instead.</summary>
    public void Failed(Exception error)
    {
        metrics.RedisFailed();
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            Log.RateLimitRedisFailing(logger, error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
