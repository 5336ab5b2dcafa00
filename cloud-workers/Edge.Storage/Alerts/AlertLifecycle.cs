using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Alerts;

/// <summary>What became of a request to acknowledge or resolve an alert.</summary>
public enum AlertTransitionOutcome
{
    /// <summary>No such alert within the caller's clinics.</summary>
    NotFound,

    /// <summary>The state changed; <see cref="AlertTransition.After"/> has the new who/when/note.</summary>
    Changed,

    /// <summary>It was in that state already: nothing changed, the original who/when/note stand.</summary>
    Already,

    /// <summary>The step is not allowed from the current state (acknowledging a resolved alert).</summary>
    Conflict,
}

/// <summary>The outcome, the alert before and the alert after (the same when nothing changed).</summary>
public sealed record AlertTransition(AlertTransitionOutcome Outcome, Alert? Before, Alert? After);

/// <summary>
/// Moves alerts through their lifecycle: open → acknowledged → resolved, or open → resolved, each step recording who,
/// when and an optional note. Repeating a step changes nothing and answers with the original record, so a double click or
/// a retried request is harmless; acknowledging a resolved alert is a conflict.
/// </summary>
/// <remarks>
/// The row is locked (<c>FOR UPDATE</c>) while the step is decided and written, so two people acknowledging at once
/// give one acknowledgement and one "already". The caller's audit record is written in the same transaction through
/// <c>audit</c>, so there is no change without its record.
/// </remarks>
public sealed class AlertLifecycle(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string LockSql = $"""
        SELECT {AlertQueries.Columns}
        FROM alerts a
        WHERE a.id = $1 AND ($2::text[] IS NULL OR a.clinic_id = ANY ($2))
        FOR UPDATE
        """;

    private const string AcknowledgeSql = $"""
        UPDATE alerts a SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, acknowledged_note = $4
        WHERE a.id = $1
        RETURNING {AlertQueries.Columns}
        """;

    private const string ResolveSql = $"""
        UPDATE alerts a SET state = 'resolved', resolved_by = $2, resolved_at = $3, resolved_note = $4
        WHERE a.id = $1
        RETURNING {AlertQueries.Columns}
        """;

    // A silent gateway heard again: its unresolved silence alerts (raised when last_seen_at was the alert's device_time)
    // are resolved by the cloud once last_seen_at has moved past that time.
    private const string ResolveHeardSql = $"""
        UPDATE alerts a SET state = 'resolved', resolved_by = 'system', resolved_at = $1,
                            resolved_note = 'Gateway heard again at ' || to_char(g.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        FROM gateways g
        WHERE a.rule = 'gateway_silent' AND a.state <> 'resolved'
          AND g.id = a.gateway_id AND g.last_seen_at > a.device_time
        RETURNING {AlertQueries.Columns}
        """;

    /// <summary>Acknowledges alert <paramref name="id"/> as <paramref name="actor"/>; <paramref name="clinicIds"/> null = every clinic.</summary>
    public Task<AlertTransition> AcknowledgeAsync(
        Guid id, IReadOnlyCollection<string>? clinicIds, string actor, string? note, AuditWriter? audit, CancellationToken cancellationToken) =>
        StepAsync(id, clinicIds, actor, note, AlertStates.Acknowledged, audit, cancellationToken);

    /// <summary>Resolves alert <paramref name="id"/> as <paramref name="actor"/>, from open or acknowledged.</summary>
    public Task<AlertTransition> ResolveAsync(
        Guid id, IReadOnlyCollection<string>? clinicIds, string actor, string? note, AuditWriter? audit, CancellationToken cancellationToken) =>
        StepAsync(id, clinicIds, actor, note, AlertStates.Resolved, audit, cancellationToken);

    /// <summary>Resolves (as <c>system</c>) the silence alerts of every gateway heard from since; returns them.</summary>
    public async Task<IReadOnlyList<Alert>> ResolveHeardGatewaysAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ResolveHeardSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var resolved = new List<Alert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            resolved.Add(AlertQueries.Read(reader, 0));
        }
        return resolved;
    }

    /// <summary>Writes the caller's audit record inside the step's transaction: the alert before and after.</summary>
    public delegate Task AuditWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, Alert before, Alert after, CancellationToken cancellationToken);

    private async Task<AlertTransition> StepAsync(
        Guid id, IReadOnlyCollection<string>? clinicIds, string actor, string? note, string target, AuditWriter? audit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        if (note is { Length: > AlertStates.MaxNoteLength })
        {
            throw new ArgumentException($"note: at most {AlertStates.MaxNoteLength} characters (was {note.Length})", nameof(note));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Alert? before;
        await using (var command = new NpgsqlCommand(LockSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = clinicIds is null ? null : [.. clinicIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            before = await reader.ReadAsync(cancellationToken) ? AlertQueries.Read(reader, 0) : null;
        }
        if (before is null)
        {
            return new AlertTransition(AlertTransitionOutcome.NotFound, null, null);
        }
        if (before.State == target)
        {
            return new AlertTransition(AlertTransitionOutcome.Already, before, before);
        }
        if (before.State == AlertStates.Resolved)
        {
            return new AlertTransition(AlertTransitionOutcome.Conflict, before, before);
        }

        Alert after;
        await using (var command = new NpgsqlCommand(target == AlertStates.Acknowledged ? AcknowledgeSql : ResolveSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Postgres.PgText.Clean(actor) });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = Postgres.PgText.CleanOrNull(note), NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            after = AlertQueries.Read(reader, 0);
        }
        if (audit is not null)
        {
            await audit(connection, transaction, before, after, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new AlertTransition(AlertTransitionOutcome.Changed, before, after);
    }
}
