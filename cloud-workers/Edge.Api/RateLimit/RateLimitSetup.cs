using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Edge.Api.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;

namespace Edge.Api.RateLimit;

/// <summary>
/// Registers the API's request limits (docs/api.md, "Rate limits"): one budget per token subject for callers with a
/// valid token, one per source address for everyone else, counted in Redis when <c>Api:RateLimit:Redis</c> is set.
/// </summary>
internal static class RateLimitSetup
{
    public static void AddApiRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsRules>();
        builder.Services.AddSingleton<LiveViewerLimit>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>()
            .Configure<IOptions<RateLimitOptions>, IServiceProvider>((limiter, options, services) => Configure(limiter, options.Value, services));

        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{RateLimitOptions.SectionName}:Redis"]))
        {
            builder.Services.AddSingleton<RateLimitRedis>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<RateLimitRedis>());
        }
    }

    private static void Configure(Microsoft.AspNetCore.RateLimiting.RateLimiterOptions limiter, RateLimitOptions options, IServiceProvider services)
    {
        var redis = services.GetService<RateLimitRedis>();
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, CallerKey>(context =>
            RateLimitPartition.Get(CallerKey.Of(context), key => CreateLimiter(key, options, redis)));
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected, options);
    }

    private static RateLimiter CreateLimiter(CallerKey key, RateLimitOptions options, RateLimitRedis? redis)
    {
        var permits = key.IsToken ? options.TokenPermitLimit : options.AddressPermitLimit;
        var local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = options.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        if (redis is null)
        {
            return local;
        }
        var shared = new RedisFixedWindowRateLimiter<string>($"edge-api:{key.Kind}:{key.Value}", new RedisFixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = options.Window,
            ConnectionMultiplexerFactory = () => redis.Connection,
        });
        return new SharedRateLimiter(shared, local, redis);
    }

    /// <summary>429 with Retry-After and a problem document that names the limit that was reached.</summary>
    private static async ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions options)
    {
        var context = rejected.HttpContext;
        var key = CallerKey.Of(context);
        context.RequestServices.GetRequiredService<ApiMetrics>().RateLimitRejected(key.Kind);
        var retryAfter = RetryAfterSeconds(rejected.Lease, options);
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var detail = key.IsToken
            ? $"This token has used its {options.TokenPermitLimit} requests per {options.WindowSeconds} s (Api:RateLimit:TokenPermitLimit); retry after {retryAfter} s."
            : $"This address has used its {options.AddressPermitLimit} requests without a valid token per {options.WindowSeconds} s (Api:RateLimit:AddressPermitLimit); retry after {retryAfter} s.";
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests.", Detail = detail },
        });
    }

    /// <summary>Whole seconds until the window that refused the request ends, at least 1 and at most the window.</summary>
    private static int RetryAfterSeconds(RateLimitLease lease, RateLimitOptions options)
    {
        // The in-process limiter says a TimeSpan; the Redis one whole seconds.
        double? seconds = lease.TryGetMetadata(MetadataName.RetryAfter.Name, out var value) ? value switch
        {
            TimeSpan span => span.TotalSeconds,
            int whole => whole,
            long whole => whole,
            _ => null,
        } : null;
        return (int)Math.Clamp(Math.Ceiling(seconds ?? options.WindowSeconds), 1, options.WindowSeconds);
    }

    /// <summary>Whose budget a request spends: the token's subject when the token is valid, otherwise the source address's.</summary>
    private readonly record struct CallerKey(string Kind, string Value)
    {
        public bool IsToken => Kind == "token";

        public static CallerKey Of(HttpContext context)
        {
            // Authentication has run: a missing, expired or forged token leaves an anonymous user here.
            if (context.User.Identity?.IsAuthenticated == true && context.User.FindFirst("sub")?.Value is { Length: > 0 } subject)
            {
                return new CallerKey("token", subject);
            }
            return new CallerKey("address", AddressOf(context.Connection.RemoteIpAddress));
        }

        private static string AddressOf(IPAddress? address)
        {
            if (address is null)
            {
                return "unknown";
            }
            if (address.IsIPv4MappedToIPv6)
            {
                return address.MapToIPv4().ToString();
            }
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // One host usually holds a whole /64: counting per address would give it 2^64 budgets.
                var bytes = address.GetAddressBytes();
                Array.Clear(bytes, 8, 8);
                return new IPAddress(bytes) + "/64";
            }
            return address.ToString();
        }
    }
}
