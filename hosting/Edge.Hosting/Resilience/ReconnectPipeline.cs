using Polly;
using Polly.Retry;

namespace Edge.Hosting.Resilience;

/// <summary>
/// How a long-lived MQTT client gets back to its broker: the gateway's uplink and the cloud worker use the same
/// shape, so an outage ends the same way for both. Exponential backoff from 1 s with jitter (a fleet of gateways
/// must not reconnect in step after a broker restart), capped, forever: giving up would leave readings in the
/// journal with nobody to send them. Cancellation is not a failure and stops the retries.
/// </summary>
public static class ReconnectPipeline
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <param name="time">The clock the waits run on (a fake one in tests).</param>
    /// <param name="maxDelay">The longest wait between attempts.</param>
    /// <param name="onRetry">Told of each failed attempt: the wait before the next one and why it failed.</param>
    public static ResiliencePipeline Create(TimeProvider time, TimeSpan maxDelay, Action<TimeSpan, Exception?> onRetry) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = FirstDelay,
                MaxDelay = maxDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    onRetry(args.RetryDelay, args.Outcome.Exception);
                    return default;
                },
            })
            .Build();
}
