using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Api.RateLimit;

/// <summary>
/// How much one caller may ask of the API (configuration section <c>Api:RateLimit</c>): requests per window per token
/// subject, per address for callers without a valid token, and live streams open at once per token. With
/// <see cref="Redis"/> set, the request counts are shared by every replica; without it each replica counts alone.
/// </summary>
internal sealed class RateLimitOptions
{
    public const string SectionName = "Api:RateLimit";

    /// <summary>
    /// Requests per <see cref="WindowSeconds"/> for one token subject, whatever the endpoint. Default 600 (10 a second
    /// on average): a dashboard polling its half-dozen queries every 5 s uses about 70 a minute, a clinician with three
    /// tabs open about 220, and a mobile app coming back to the foreground fires a burst of 20–30; a script stuck in a
    /// loop goes past 600 within seconds and is stopped for the rest of the minute.
    /// </summary>
    [SettingRange(1, 1_000_000, ErrorMessage = "Api:RateLimit:TokenPermitLimit must be between 1 and 1000000.")]
    public int TokenPermitLimit { get; set; } = 600;

    /// <summary>
    /// Requests per <see cref="WindowSeconds"/> from one source address without a valid token: /healthz, /openapi, and
    /// requests whose token is missing, expired or forged. Default 120: a load balancer's health check every 5 s is 12 a
    /// minute; nothing legitimate needs more, and a client guessing tokens is held to 2 a second. IPv6 addresses count
    /// per /64, the block one host is usually given.
    /// </summary>
    [SettingRange(1, 1_000_000, ErrorMessage = "Api:RateLimit:AddressPermitLimit must be between 1 and 1000000.")]
    public int AddressPermitLimit { get; set; } = 120;

    /// <summary>
    /// The fixed window the permit limits count in, in seconds. Default 60: long enough that a dashboard's regular
    /// polling averages out, short enough that a client that went over waits at most a minute (Retry-After says how long).
    /// </summary>
    [SettingRange(1, 3600, ErrorMessage = "Api:RateLimit:WindowSeconds must be between 1 and 3600.")]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>
    /// Live telemetry WebSockets (<c>/v1/devices/{serial}/live</c>) one token subject may hold open at once, on one
    /// replica. Default 20: a ward's wall display follows one stream per bed; a tab that leaks sockets on every reload
    /// stops at 20 instead of holding a database query loop per socket.
    /// </summary>
    [SettingRange(1, 10_000, ErrorMessage = "Api:RateLimit:LiveViewersPerToken must be between 1 and 10000.")]
    public int LiveViewersPerToken { get; set; } = 20;

    /// <summary>
    /// Redis that holds the request counts for every replica, as a StackExchange.Redis configuration string
    /// (<c>redis:6379</c>, optionally <c>,password=…,ssl=true</c>). Unset (the default): each replica counts on its own,
    /// right for a single API; with N replicas behind a load balancer a caller would get N times the limits.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>File holding Redis's password (mode 0600), for containers and systemd credentials; overrides a password in <see cref="Redis"/>.</summary>
    public string? RedisPasswordFile { get; set; }

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
