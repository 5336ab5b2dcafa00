using System.Net.Sockets;
using Npgsql;

namespace Edge.Storage.Postgres;

/// <summary>Sorts PostgreSQL failures into "try once more" and "give up", and spots a connection the server dropped.</summary>
internal static class PgErrors
{
    /// <summary>
    /// True for failures a second attempt can cure: the server closed the connection (a restart or failover),
    /// a deadlock or a serialization failure. <paramref name="connectionLost"/> says whether the pool's idle
    /// connections are probably dead too: Npgsql does not clear the pool when the server restarts.
    /// </summary>
    public static bool IsRetryable(Exception error, out bool connectionLost)
    {
        switch (error)
        {
            case PostgresException postgres:
                // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
                connectionLost = postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                    or PostgresErrorCodes.CannotConnectNow;
                return connectionLost
                    || postgres.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
            case NpgsqlException npgsql:
                connectionLost = npgsql.InnerException is IOException or SocketException;
                return connectionLost || npgsql.IsTransient;
            default:
                connectionLost = false;
                return false;
        }
    }
}
