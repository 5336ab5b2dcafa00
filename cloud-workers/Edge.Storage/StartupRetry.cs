using MongoDB.Driver;
using Npgsql;
using Microsoft.Extensions.Logging;

namespace Edge.Storage;

/// <summary>
/// Runs a start-up step (the migrations) until the databases answer. A worker or an API started before its database
/// (a host rebooting, a managed database failing over) waits for it, with a warning naming the error, instead of
/// aborting with a stack trace into its supervisor's restart loop. A database that answers and refuses (a wrong
/// password, a missing database) is a settings mistake, not an outage: that error stops the start as before.
/// </summary>
public static class StartupRetry
{
    /// <summary>The longest wait between attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    public static async Task UntilReachableAsync(Func<CancellationToken, Task> step, string what, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await step(cancellationToken);
                if (attempt > 1)
                {
                    Log.ReachableAtStart(logger, what, attempt);
                }

                return;
            }
            catch (Exception error) when (IsUnreachable(error) && !cancellationToken.IsCancellationRequested)
            {
                Log.UnreachableAtStart(logger, what, attempt, error.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
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
