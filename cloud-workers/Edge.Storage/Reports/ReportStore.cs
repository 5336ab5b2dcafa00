using Edge.Storage.Queries;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Reports;

/// <summary>One recorded ECG report: where its PDF is, its checksums, and the device's report JSON.</summary>
public sealed record ReportRecord(
    string ReportId,
    string Serial,
    string Source,
    string? GatewayId,
    string? UploadedBy,
    string Bucket,
    string Key,
    long SizeBytes,
    string Md5,
    string Sha256,
    string ReportJson,
    DateTimeOffset ReceivedAt,
    DateTimeOffset RecordedAt)
{
    public const string SourceGateway = "gateway";
    public const string SourceUpload = "upload";

    /// <summary>Same report: same id, device and content. A re-send of it is not a conflict.</summary>
    public bool SameContentAs(ReportRecord other) =>
        ReportId == other.ReportId && Serial == other.Serial && Sha256 == other.Sha256;
}

/// <summary>How recording a report went.</summary>
public enum RecordOutcome
{
    /// <summary>A new row.</summary>
    Recorded,

    /// <summary>The same report (id, serial, content) was already recorded: a re-send.</summary>
    AlreadyRecorded,

    /// <summary>The id is taken by another device's report or other content; nothing was written.</summary>
    Conflict,
}

/// <summary>The <c>ecg_reports</c> table (see <see cref="ReportSchema"/>): insert-if-absent, lookup, newest-first pages per device.</summary>
public sealed class ReportStore(NpgsqlDataSource registry)
{
    private const string Columns = "report_id, serial, source, gateway_id, uploaded_by, s3_bucket, s3_key, size_bytes, md5, sha256, report::text, received_at, recorded_at";

    private const string InsertSql = """
        INSERT INTO ecg_reports (report_id, serial, source, gateway_id, uploaded_by, s3_bucket, s3_key, size_bytes, md5, sha256, report, received_at, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
        ON CONFLICT (report_id) DO NOTHING
        """;

    private const string FindSql = $"SELECT {Columns} FROM ecg_reports WHERE report_id = $1";

    // Newest first; the cursor is the last row's (recorded_at, report_id).
    private static readonly string ListSql = $"""
        SELECT {Columns} FROM ecg_reports
        WHERE serial = $1 AND ($2::timestamptz IS NULL OR (recorded_at, report_id) < ($2, $3))
          AND {ReceivedWindowSql.Covers("received_at", 5, 6)}
        ORDER BY recorded_at DESC, report_id DESC
        LIMIT $4
        """;

    // Report keys start with the clinic of the gateway that uploads; a retired or unregistered gateway has none.
    private const string GatewayClinicSql = "SELECT clinic_id FROM gateways WHERE id = $1 AND status = 'active'";

    public NpgsqlDataSource DataSource => registry;

    /// <summary>The clinic of an active registered gateway, or null: the first segment of the keys its reports get.</summary>
    public async Task<string?> GatewayClinicAsync(string gatewayId, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(GatewayClinicSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gatewayId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Records a report unless its id is taken; says whether it was new, a re-send, or a conflict.</summary>
    public async Task<(RecordOutcome Outcome, ReportRecord? Existing)> RecordAsync(ReportRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await RecordAsync(connection, transaction, record, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>As <see cref="RecordAsync(ReportRecord, CancellationToken)"/>, inside the caller's transaction (the API audits in the same one).</summary>
    public static async Task<(RecordOutcome Outcome, ReportRecord? Existing)> RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ReportRecord record, CancellationToken cancellationToken)
    {
        int inserted;
        await using (var command = new NpgsqlCommand(InsertSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.ReportId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Serial });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Source });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.GatewayId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.UploadedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Bucket });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Key });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = record.SizeBytes });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Md5 });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.Sha256 });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.ReportJson });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = record.ReceivedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = record.RecordedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (inserted == 1)
        {
            return (RecordOutcome.Recorded, null);
        }

        var existing = await FindAsync(connection, transaction, record.ReportId, cancellationToken);
        return existing is not null && existing.SameContentAs(record) ? (RecordOutcome.AlreadyRecorded, existing) : (RecordOutcome.Conflict, existing);
    }

    public async Task<ReportRecord?> FindAsync(string reportId, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, null, reportId, cancellationToken);
    }

    /// <summary>
    /// A device's reports, newest first; <paramref name="after"/> is the previous page's last (recorded_at, report_id).
    /// With <paramref name="receivedWithin"/> (a clinic's ownership periods) only reports received in one of them.
    /// </summary>
    public async Task<List<ReportRecord>> ListAsync(
        string serial, (DateTimeOffset RecordedAt, string ReportId)? after, int take, IReadOnlyList<ReceivedWindow>? receivedWithin, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(ListSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serial });
        command.Parameters.Add(new NpgsqlParameter { Value = after is null ? DBNull.Value : after.Value.RecordedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)after?.ReportId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take });
        var (from, to) = ReceivedWindowSql.Parameters(receivedWithin);
        command.Parameters.Add(from);
        command.Parameters.Add(to);
        var rows = new List<ReportRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Read(reader));
        }

        return rows;
    }

    private static async Task<ReportRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string reportId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(FindSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reportId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static ReportRecord Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetString(5),
        reader.GetString(6),
        reader.GetInt64(7),
        reader.GetString(8),
        reader.GetString(9),
        reader.GetString(10),
        reader.GetFieldValue<DateTimeOffset>(11),
        reader.GetFieldValue<DateTimeOffset>(12));
}
