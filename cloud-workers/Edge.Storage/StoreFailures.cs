using MongoDB.Driver;
using Npgsql;

namespace Edge.Storage;

/// <summary>What retrying a failed store write can do about it.</summary>
public enum StoreFailureKind
{
    /// <summary>An outage or a setting the operator fixes (connection lost, database restarting, a missing grant): retry until it works.</summary>
    Transient,

    /// <summary>The data itself is refused (a CHECK or NOT NULL, a value out of range, a document the collection's validator refuses): retrying cannot help.</summary>
    Permanent,

    /// <summary>Anything else: retried a bounded number of times, then treated as permanent for the batch.</summary>
    Unknown,
}

/// <summary>
/// Sorts store errors into transient and permanent. PostgreSQL says which by its SQLSTATE class
/// (https://www.postgresql.org/docs/15/errcodes-appendix.html); MongoDB by its error codes.
/// </summary>
public static class StoreFailures
{
    // MongoDB's DocumentValidationFailure: a $jsonSchema validator refused the document.
    private const int MongoDocumentValidationFailure = 121;

    public static StoreFailureKind Classify(Exception error) => error switch
    {
        PostgresException postgres => ClassifyPostgres(postgres),
        NpgsqlException => StoreFailureKind.Transient, // the connection broke (I/O, timeout) before the server answered
        TimeoutException or System.Net.Sockets.SocketException or IOException => StoreFailureKind.Transient,
        MongoWriteException write when write.WriteError?.Code == MongoDocumentValidationFailure => StoreFailureKind.Permanent,
        MongoBulkWriteException bulk when bulk.WriteErrors.Any(e => e.Code == MongoDocumentValidationFailure) => StoreFailureKind.Permanent,
        MongoConnectionException or MongoExecutionTimeoutException or MongoNotPrimaryException or MongoNodeIsRecoveringException => StoreFailureKind.Transient,
        // StoreGuard: the batch is not what the store takes. A bug, but no retry makes it right.
        ArgumentException => StoreFailureKind.Permanent,
        _ => StoreFailureKind.Unknown,
    };

    /// <summary>A short reason for logs and the dead-letter tables: the SQLSTATE and constraint when PostgreSQL gave them.</summary>
    public static string Describe(Exception error) => error switch
    {
        PostgresException { ConstraintName: { Length: > 0 } constraint } postgres => $"{postgres.SqlState} {postgres.MessageText} (constraint {constraint})",
        PostgresException postgres => $"{postgres.SqlState} {postgres.MessageText}",
        _ => error.Message,
    };

    private static StoreFailureKind ClassifyPostgres(PostgresException error)
    {
        if (error.IsTransient)
        {
            return StoreFailureKind.Transient;
        }

        return error.SqlState[..2] switch
        {
            // Data exception (a value out of range, a bad timestamp) and integrity constraint violation (CHECK, NOT NULL,
            // foreign key). Unique violations are not the data's fault here (every write is insert-if-absent).
            "22" => StoreFailureKind.Permanent,
            "23" when error.SqlState != PostgresErrorCodes.UniqueViolation => StoreFailureKind.Permanent,
            // Connection, resources, operator intervention, lock and serialization conflicts, system errors, and what an
            // operator fixes (a missing table or grant, authentication): the data is fine, the database is not ready.
            "08" or "40" or "53" or "55" or "57" or "58" or "XX" or "42" or "28" or "3D" or "3F" => StoreFailureKind.Transient,
            _ => StoreFailureKind.Unknown,
        };
    }
}
