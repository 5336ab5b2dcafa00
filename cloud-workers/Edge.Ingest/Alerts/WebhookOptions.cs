using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Ingest.Alerts;

/// <summary>How the worker delivers alerts to webhook subscriptions (configuration section <c>Alerts:Webhooks</c>).</summary>
/// <remarks>
/// With the defaults a failing receiver is tried 8 times, waiting 30 s, then 1, 2, 4, 8, 16 and 32 min (each cut to
/// 50-100 % at random), so a delivery is dead after half an hour to an hour of failures: long enough to ride out a
/// receiver's restart or a short outage, short enough that a technician sees a broken endpoint the same day.
/// </remarks>
internal sealed class WebhookOptions
{
    public const string SectionName = "Alerts:Webhooks";

    /// <summary>Attempts per delivery, the first included, before it is dead. Default 8.</summary>
    [SettingRange(1, 100, ErrorMessage = "Alerts:Webhooks:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Seconds to wait for a receiver's answer (headers) before the attempt counts as failed. Default 10.</summary>
    [SettingRange(1, 300, ErrorMessage = "Alerts:Webhooks:TimeoutSeconds must be between 1 and 300.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Milliseconds between looks at the queue when nothing was due. Default 1000: an alert leaves within about a second.</summary>
    [SettingRange(10, 60_000, ErrorMessage = "Alerts:Webhooks:PollIntervalMilliseconds must be between 10 and 60000.")]
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Delay after the first failed attempt (seconds); it doubles per attempt up to the cap, with jitter. Default 30.</summary>
    [SettingRange(1, 86_400, ErrorMessage = "Alerts:Webhooks:BackoffBaseSeconds must be between 1 and 86400.")]
    public int BackoffBaseSeconds { get; set; } = 30;

    /// <summary>Longest delay between two attempts (seconds). Default 3600.</summary>
    [SettingRange(1, 86_400, ErrorMessage = "Alerts:Webhooks:BackoffCapSeconds must be between 1 and 86400.")]
    public int BackoffCapSeconds { get; set; } = 3600;

    /// <summary>Deliveries one worker process sends at once (and claims per look at the queue). Default 8.</summary>
    [SettingRange(1, 256, ErrorMessage = "Alerts:Webhooks:MaxConcurrency must be between 1 and 256.")]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>
    /// Allow receivers on loopback and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), e.g. the
    /// hospital's own alerting system. Default false: only public addresses, so a subscription cannot make the workers
    /// call internal services. Link-local addresses (cloud metadata), multicast and unspecified are refused either way.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }
}
