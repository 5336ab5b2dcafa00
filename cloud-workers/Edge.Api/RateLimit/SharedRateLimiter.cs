using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Edge.Api.RateLimit;

/// <summary>
/// One partition's limit counted in Redis, so every replica spends the same budget; while Redis cannot answer, counted
/// by this replica alone (fail open to the local limit, never to no limit and never to refusing everyone).
/// </summary>
internal sealed class SharedRateLimiter(RateLimiter shared, RateLimiter local, RateLimitRedis redis) : RateLimiter
{
    public override TimeSpan? IdleDuration => (shared.IdleDuration, local.IdleDuration) switch
    {
        ({ } a, { } b) => a < b ? a : b,
        _ => null,
    };

    public override RateLimiterStatistics? GetStatistics() => local.GetStatistics();

    // A synchronous attempt cannot ask Redis; the middleware then waits on AcquireAsync, which does.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotYet.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        try
        {
            var lease = await shared.AcquireAsync(permitCount, cancellationToken);
            redis.Succeeded();
            return lease;
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            redis.Failed(error);
            return await local.AcquireAsync(permitCount, cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            shared.Dispose();
            local.Dispose();
        }
        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await shared.DisposeAsync();
        await local.DisposeAsync();
        await base.DisposeAsyncCore();
    }

    private sealed class NotYet : RateLimitLease
    {
        public static readonly NotYet Instance = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
