using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Edge.Api.RateLimit;

/// <summary>
/// How many live streams one token subject holds open on this replica. Per replica, not in Redis: a stream lives for
/// hours on the replica that accepted it, and what the cap protects (sockets, a query loop per stream) is that
/// replica's; a count in Redis would outlive a replica that crashed while holding streams.
/// </summary>
internal sealed class LiveViewerLimit(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(subject =>
        RateLimitPartition.GetConcurrencyLimiter(subject, _ => new ConcurrencyLimiterOptions { PermitLimit = options.Value.LiveViewersPerToken, QueueLimit = 0 }));

    public int PerToken => options.Value.LiveViewersPerToken;

    /// <summary>A place for one more stream of <paramref name="subject"/>, held until the lease is disposed; not acquired when the cap is reached.</summary>
    public RateLimitLease TryEnter(string subject) => _limiter.AttemptAcquire(subject);

    public void Dispose() => _limiter.Dispose();
}
