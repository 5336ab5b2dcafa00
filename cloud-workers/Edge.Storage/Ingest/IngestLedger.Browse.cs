using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Ingest;

/// <summary>Where a row's requeue stands: asked for by an admin, tried by a worker, and why the last try failed.</summary>
/// <param name="RequestedAt">When an admin last asked for it to be tried again; null = never.</param>
/// <param name="AttemptedAt">When a worker last tried it after that request; null = not yet (pending).</param>
/// <param name="Outcome">Why the last try failed; a try that stores it deletes the row, so there is no success outcome.</param>
public sealed record RequeueState(DateTimeOffset? RequestedAt, DateTimeOffset? AttemptedAt, string? Outcome)
{
    public const string None = "none";
    public const string Pending = "pending";
    public const string Failed = "failed";

    /// <summary><see cref="None"/>, <see cref="Pending"/> (a worker will try it) or <see cref="Failed"/> (tried, still here).</summary>
    public string State => RequestedAt is null ? None : AttemptedAt is null ? Pending : Failed;
}

/// <summary>A row of <c>ingest_dead_letters</c>; <see cref="Payload"/> is null in lists (<see cref="PayloadBytes"/> says how big it is).</summary>
public sealed record DeadLetterEntry(
    long Id, DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, int PayloadBytes, byte[]? Payload, RequeueState Requeue);

/// <summary>A row of <c>rejected_readings</c>; <see cref="Raw"/> is null in lists.</summary>
public sealed record RejectedEntry(
    Guid Id, string GatewayId, long Epoch, long Sequence, string Serial, string Reason, DateTimeOffset ReceivedAt, int RawBytes, byte[]? Raw, RequeueState Requeue);

/// <summary>Filters of the dead letter list; null = any. Times bound <c>received_at</c> (since inclusive, until exclusive).</summary>
public sealed record DeadLetterFilter(string? GatewayId, DateTimeOffset? Since, DateTimeOffset? Until);

/// <summary>Filters of the rejected readings list; null = any. <see cref="ReasonText"/> matches part of the reason, any case.</summary>
public sealed record RejectedFilter(string? GatewayId, string? Serial, string? ReasonText, DateTimeOffset? Since, DateTimeOffset? Until);

// What the admins' API reads and asks for: pages newest first by keyset (received_at, id), one row with its payload,
// and the requeue request a worker acts on (IngestLedger.Requeue.cs).
public sealed partial class IngestLedger
{
    public const int MaxLimit = 500;

    private const string RequeueColumns = "requeue_requested_at, requeue_attempted_at, requeue_outcome";
    private const string DeadLetterColumns = $"id, received_at, gateway_id, topic, reason, octet_length(payload), {RequeueColumns}";
    private const string RejectedColumns = $"id, gateway_id, epoch, seq, serial, reason, received_at, octet_length(raw), {RequeueColumns}";

    /// <summary>One page of dead letters, newest first; <paramref name="after"/> is the previous page's last row.</summary>
    public async Task<List<DeadLetterEntry>> ListDeadLettersAsync(
        DeadLetterFilter filter, (DateTimeOffset At, long Id)? after, int take, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {DeadLetterColumns} FROM {DeadLettersTable}
            WHERE ($1::text IS NULL OR gateway_id = $1)
              AND ($2::timestamptz IS NULL OR received_at >= $2)
              AND ($3::timestamptz IS NULL OR received_at < $3)
              AND ($4::timestamptz IS NULL OR (received_at, id) < ($4, $5))
            ORDER BY received_at DESC, id DESC
            LIMIT $6
            """);
        command.Parameters.AddRange(new NpgsqlParameter[] { Text(filter.GatewayId), Time(filter.Since), Time(filter.Until), Time(after?.At),
            new NpgsqlParameter { Value = (object?)after?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint }, new NpgsqlParameter<int> { TypedValue = take } });
        return await ReadDeadLettersAsync(command, withPayload: false, cancellationToken);
    }

    /// <summary>One dead letter with its payload, or null.</summary>
    public async Task<DeadLetterEntry?> GetDeadLetterAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {DeadLetterColumns}, payload FROM {DeadLettersTable} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        return (await ReadDeadLettersAsync(command, withPayload: true, cancellationToken)).SingleOrDefault();
    }

    /// <summary>One page of rejected readings, newest first; <paramref name="after"/> is the previous page's last row.</summary>
    public async Task<List<RejectedEntry>> ListRejectedAsync(
        RejectedFilter filter, (DateTimeOffset At, Guid Id)? after, int take, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {RejectedColumns} FROM {RejectedTable}
            WHERE ($1::text IS NULL OR gateway_id = $1)
              AND ($2::text IS NULL OR serial = $2)
              AND ($3::text IS NULL OR strpos(lower(reason), lower($3)) > 0)
              AND ($4::timestamptz IS NULL OR received_at >= $4)
              AND ($5::timestamptz IS NULL OR received_at < $5)
              AND ($6::timestamptz IS NULL OR (received_at, id) < ($6, $7))
            ORDER BY received_at DESC, id DESC
            LIMIT $8
            """);
        command.Parameters.AddRange(new NpgsqlParameter[] { Text(filter.GatewayId), Text(filter.Serial), Text(filter.ReasonText), Time(filter.Since), Time(filter.Until), Time(after?.At),
            new NpgsqlParameter { Value = (object?)after?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid }, new NpgsqlParameter<int> { TypedValue = take } });
        return await ReadRejectedAsync(command, withRaw: false, cancellationToken);
    }

    /// <summary>One rejected reading with its raw payload, or null.</summary>
    public async Task<RejectedEntry?> GetRejectedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {RejectedColumns}, raw FROM {RejectedTable} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return (await ReadRejectedAsync(command, withRaw: true, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Asks the workers to try a dead letter again (the last outcome is cleared); null when there is no such row.</summary>
    public Task<RequeueState?> RequestDeadLetterRequeueAsync(long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        RequestRequeueAsync(DeadLettersTable, new NpgsqlParameter<long> { TypedValue = id }, now, cancellationToken);

    /// <summary>Asks the workers to try a rejected reading again (the last outcome is cleared); null when there is no such row.</summary>
    public Task<RequeueState?> RequestRejectedRequeueAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken) =>
        RequestRequeueAsync(RejectedTable, new NpgsqlParameter<Guid> { TypedValue = id }, now, cancellationToken);

    private async Task<RequeueState?> RequestRequeueAsync(string table, NpgsqlParameter id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE {table} SET requeue_requested_at = $2, requeue_attempted_at = NULL, requeue_outcome = NULL
            WHERE id = $1
            RETURNING {RequeueColumns}
            """);
        command.Parameters.Add(id);
        command.Parameters.Add(Time(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRequeue(reader, 0) : null;
    }

    private static async Task<List<DeadLetterEntry>> ReadDeadLettersAsync(NpgsqlCommand command, bool withPayload, CancellationToken cancellationToken)
    {
        var rows = new List<DeadLetterEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new DeadLetterEntry(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetInt32(5), withPayload ? reader.GetFieldValue<byte[]>(9) : null, ReadRequeue(reader, 6)));
        }
        return rows;
    }

    private static async Task<List<RejectedEntry>> ReadRejectedAsync(NpgsqlCommand command, bool withRaw, CancellationToken cancellationToken)
    {
        var rows = new List<RejectedEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new RejectedEntry(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), reader.GetString(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7), withRaw ? reader.GetFieldValue<byte[]>(11) : null, ReadRequeue(reader, 8)));
        }
        return rows;
    }

    private static RequeueState ReadRequeue(NpgsqlDataReader reader, int first) => new(
        reader.IsDBNull(first) ? null : reader.GetFieldValue<DateTimeOffset>(first),
        reader.IsDBNull(first + 1) ? null : reader.GetFieldValue<DateTimeOffset>(first + 1),
        reader.IsDBNull(first + 2) ? null : reader.GetString(first + 2));

    private static NpgsqlParameter Text(string? value) => new() { Value = value is null ? DBNull.Value : PgText.Clean(value), NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = value is { } v ? v.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
