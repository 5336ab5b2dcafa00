using System.ComponentModel;
using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Http;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Audit;

/// <summary>One audited change: who (actor and the role acted under), when, what, and the target before and after.</summary>
internal sealed record AuditEntry(
    long Id, DateTimeOffset At, string Actor, string Role, string Action, string TargetType, string TargetId,
    string? ClinicId,
    [property: Description("The target as JSON before the change: null for a creation (and for actions with nothing to show), or for an auditor when that side belongs to a clinic outside their token.")]
    JsonElement? Before,
    [property: Description("The target as JSON after the change: null when the action leaves nothing to show (a webhook requeue), or for an auditor when that side belongs to a clinic outside their token.")]
    JsonElement? After);

/// <summary>What a handler records about a change; written in the same transaction as the change itself.</summary>
internal sealed record AuditRecord(string Action, string TargetType, string TargetId, string? ClinicId, string? BeforeJson, string? AfterJson);

/// <summary>
/// The audit log: every mutating request writes one row in the transaction that makes the change, so there is no
/// change without its record and no record of a change that rolled back.
/// </summary>
internal sealed class AuditTrail(NpgsqlDataSource registry, TimeProvider time)
{
    private const string InsertSql = """
        INSERT INTO audit_log (at, actor, role, action, target_type, target_id, clinic_id, before, after)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
        """;

    private const string ListSql = """
        SELECT id, at, actor, role, action, target_type, target_id, clinic_id, before::text, after::text
        FROM audit_log
        WHERE ($1::bigint IS NULL OR id < $1)
          AND ($2::text IS NULL OR target_type = $2)
          AND ($3::text IS NULL OR target_id = $3)
          AND ($4::text IS NULL OR actor = $4)
          AND ($6::text[] IS NULL OR clinic_id = ANY($6) OR before->>'clinic_id' = ANY($6))
        ORDER BY id DESC
        LIMIT $5
        """;

    public static string Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    public async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Caller caller, AuditRecord record, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(InsertSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = caller.Subject });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = caller.Role });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Action });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.TargetType });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.TargetId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.ClinicId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.BeforeJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.AfterJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records a change another component made in its own transaction (webhook subscriptions); written right after it,
    /// so only a crash between the two can leave a change without its record.
    /// </summary>
    public async Task RecordAsync(Caller caller, AuditRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RecordAsync(connection, transaction, caller, record, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Newest first; <paramref name="beforeId"/> is the keyset cursor (entries with a smaller id). With a
    /// <paramref name="clinics"/> scope only rows of those clinics: the row's clinic, or the clinic a device was moved
    /// out of (<c>before.clinic_id</c>); rows without a clinic (webhooks) only without a scope (admins).
    /// </summary>
    public async Task<List<AuditEntry>> ListAsync(
        long? beforeId, string? targetType, string? targetId, string? actor, int take, IReadOnlyCollection<string>? clinics, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(ListSql);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)targetType ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)targetId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)actor ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)clinics?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : JsonElementOf(reader.GetString(8)),
                reader.IsDBNull(9) ? null : JsonElementOf(reader.GetString(9))));
        }
        return entries;
    }

    private static JsonElement JsonElementOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
