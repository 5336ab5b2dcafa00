using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Ingest;

// The workers' side of a requeue: take one pending row under a row lock (FOR UPDATE SKIP LOCKED, so two replicas never
// try the same row at once), try it, then delete it when stored or record the failure. An error the attempt throws
// rolls the lock back and leaves the row pending for the next pass (a store outage is waited out, not recorded).
public sealed partial class IngestLedger
{
    private const string PendingWhere = "requeue_requested_at IS NOT NULL AND requeue_attempted_at IS NULL";

    /// <summary>
    /// Tries the oldest pending dead letter with <paramref name="attempt"/>: it returns null when the batch is stored
    /// (the row is deleted) or why it failed again (kept as the row's reason and outcome). Returns false when none was pending.
    /// </summary>
    public async Task<bool> RequeueNextDeadLetterAsync(
        Func<DeadLetterEntry, CancellationToken, Task<string?>> attempt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        DeadLetterEntry? row;
        await using (var take = new NpgsqlCommand(
            $"SELECT {DeadLetterColumns}, payload FROM {DeadLettersTable} WHERE {PendingWhere} ORDER BY requeue_requested_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            connection, transaction))
        {
            row = (await ReadDeadLettersAsync(take, withPayload: true, cancellationToken)).SingleOrDefault();
        }
        if (row is null)
        {
            return false;
        }

        var failure = await attempt(row, cancellationToken);
        await FinishAsync(connection, transaction, DeadLettersTable, new NpgsqlParameter<long> { TypedValue = row.Id }, failure, now, cancellationToken);
        return true;
    }

    /// <summary>Like <see cref="RequeueNextDeadLetterAsync"/> for the oldest pending rejected reading.</summary>
    public async Task<bool> RequeueNextRejectedAsync(
        Func<RejectedEntry, CancellationToken, Task<string?>> attempt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        RejectedEntry? row;
        await using (var take = new NpgsqlCommand(
            $"SELECT {RejectedColumns}, raw FROM {RejectedTable} WHERE {PendingWhere} ORDER BY requeue_requested_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            connection, transaction))
        {
            row = (await ReadRejectedAsync(take, withRaw: true, cancellationToken)).SingleOrDefault();
        }
        if (row is null)
        {
            return false;
        }

        var failure = await attempt(row, cancellationToken);
        await FinishAsync(connection, transaction, RejectedTable, new NpgsqlParameter<Guid> { TypedValue = row.Id }, failure, now, cancellationToken);
        return true;
    }

    private static async Task FinishAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string table, NpgsqlParameter id, string? failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = failure is null
            ? new NpgsqlCommand($"DELETE FROM {table} WHERE id = $1", connection, transaction)
            : new NpgsqlCommand($"UPDATE {table} SET reason = $2, requeue_attempted_at = $3, requeue_outcome = $4 WHERE id = $1", connection, transaction);
        command.Parameters.Add(id);
        if (failure is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(failure) });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean($"failed again: {failure}") });
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
