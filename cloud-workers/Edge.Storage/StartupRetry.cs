using MongoDB.Driver;
using Npgsql;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Edge.Storage;

/// <summary>
/// Runs a start-up step (the migrations) until the databases answer. A worker or an API started before its database
/// (a host rebooting, a managed database failing over) waits for it, with a warning naming the error, instead of
/// aborting with a stack trace into its supervisor's restart loop; the waits double from 1 s to 30 s (Polly's retry).
/// A database that answers and refuses (a wrong password, a missing database) is a settings mistake, not an outage:
/// that error stops the start as before.
/// </summary>
public static class StartupRetry
{
    /// <summary>The longest wait between attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public static async Task UntilReachableAsync(Func<CancellationToken, Task> step, string what, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var attempts = 1;
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Only an outage is waited out; a refusal (wrong password, missing database) stops the start.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(error => IsUnreachable(error) && !cancellationToken.IsCancellationRequested),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = MaxDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    Log.UnreachableAtStart(logger, what, args.AttemptNumber + 1, args.Outcome.Exception?.Message ?? "", args.RetryDelay.TotalSeconds);
                    attempts = args.AttemptNumber + 2;
                    return default;
                },
            })
            .Build();

        await pipeline.ExecuteAsync(async ct => await step(ct), cancellationToken);
        if (attempts > 1)
        {
            Log.ReachableAtStart(logger, what, attempts);
        }
    }

    /// <summary>Whether <paramref name="error"/> says the database could not be reached (as against refusing us).</summary>
    public static bool IsUnreachable(Exception error) => error switch
    {
        // The server answered: only "starting up / shutting down" (57P03) and "too many connections" (53300) pass.
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections,
        // Refused, reset, a name that does not resolve yet, a TLS handshake cut short.
        NpgsqlException => true,
        MongoConnectionException => true,
        // MongoDB's server selection and Npgsql's connect timeout.
        TimeoutException => true,
        _ => false,
    };
}
