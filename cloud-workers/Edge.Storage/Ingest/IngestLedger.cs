using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Ingest;

/// <summary>An upload the worker could not decode at all (bad compression, bad batch framing), kept as received.</summary>
/// <param name="ReceivedAt">When the worker received it.</param>
/// <param name="GatewayId">The gateway the topic names.</param>
/// <param name="Topic">The uplink topic it arrived on.</param>
/// <param name="Reason">Why it could not be decoded, in words a technician can act on.</param>
/// <param name="Payload">The message body exactly as received.</param>
public sealed record DeadLetter(DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, ReadOnlyMemory<byte> Payload);

/// <summary>A reading that decoded but failed re-validation in the cloud, kept once per reading id.</summary>
/// <param name="Id">The reading id (gateway id + epoch + sequence), so a re-sent batch does not record it twice.</param>
/// <param name="GatewayId">The gateway that journaled it.</param>
/// <param name="Epoch">The gateway journal's epoch.</param>
/// <param name="Sequence">The journal sequence number.</param>
/// <param name="Serial">The serial as sent; it may be the reason for the refusal, so it is text, not a parsed serial.</param>
/// <param name="Reason">The validator's summary, e.g. <c>metrics.flow_rate_lpm: must be between 0 and 15 (was 20.5)</c>.</param>
/// <param name="Raw">The payload bytes as the device sent them (not necessarily valid JSON).</param>
/// <param name="ReceivedAt">When the worker received it.</param>
public sealed record RejectedReading(
    Guid Id, string GatewayId, long Epoch, long Sequence, string Serial, string Reason, ReadOnlyMemory<byte> Raw, DateTimeOffset ReceivedAt);

/// <summary>The ingest worker's bookkeeping in PostgreSQL: dead-lettered uploads and rejected readings, bounded by retention.</summary>
public sealed partial class IngestLedger(NpgsqlDataSource dataSource, int retentionDays, ILogger<IngestLedger> logger)
{
    public const string DeadLettersTable = "ingest_dead_letters";
    public const string RejectedTable = "rejected_readings";

    /// <summary>Rows deleted per retention statement, and statements per run.</summary>
    internal const int RetentionBatch = 10_000;
    internal const int RetentionMaxBatches = 100;

    internal static readonly Migration[] Migrations =
    [
        new(1, "ingest_dead_letters and rejected_readings", $"""
            CREATE TABLE {DeadLettersTable} (
                id          bigserial   PRIMARY KEY,
                received_at timestamptz NOT NULL,
                gateway_id  text        NOT NULL,
                topic       text        NOT NULL,
                reason      text        NOT NULL,
                payload     bytea       NOT NULL
            );
            CREATE INDEX {DeadLettersTable}_received_at ON {DeadLettersTable} (received_at);
            CREATE INDEX {DeadLettersTable}_gateway ON {DeadLettersTable} (gateway_id, received_at);
            CREATE TABLE {RejectedTable} (
                id          uuid        PRIMARY KEY,
                gateway_id  text        NOT NULL,
                epoch       bigint      NOT NULL,
                seq         bigint      NOT NULL,
                serial      text        NOT NULL,
                reason      text        NOT NULL,
                raw         bytea       NOT NULL,
                received_at timestamptz NOT NULL
            );
            CREATE INDEX {RejectedTable}_received_at ON {RejectedTable} (received_at);
            CREATE INDEX {RejectedTable}_serial ON {RejectedTable} (serial, received_at);
            """),
        // An admin asks (API) for a row to be tried again after a fix; a worker tries it and deletes it once stored, or
        // records when it tried and why it failed again. Pending = requested and not attempted since.
        new(2, "requeue state of dead letters and rejected readings", $"""
            ALTER TABLE {DeadLettersTable}
                ADD COLUMN requeue_requested_at timestamptz,
                ADD COLUMN requeue_attempted_at timestamptz,
                ADD COLUMN requeue_outcome      text;
            ALTER TABLE {RejectedTable}
                ADD COLUMN requeue_requested_at timestamptz,
                ADD COLUMN requeue_attempted_at timestamptz,
                ADD COLUMN requeue_outcome      text;
            CREATE INDEX {DeadLettersTable}_requeue ON {DeadLettersTable} (requeue_requested_at)
                WHERE requeue_requested_at IS NOT NULL AND requeue_attempted_at IS NULL;
            CREATE INDEX {RejectedTable}_requeue ON {RejectedTable} (requeue_requested_at)
                WHERE requeue_requested_at IS NOT NULL AND requeue_attempted_at IS NULL;
            """),
    ];

    private const string InsertDeadLetterSql = $"""
        INSERT INTO {DeadLettersTable} (received_at, gateway_id, topic, reason, payload)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id
        """;

    private const string InsertRejectedSql = $"""
        INSERT INTO {RejectedTable} (id, gateway_id, epoch, seq, serial, reason, raw, received_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO NOTHING
        """;

    /// <summary>Creates or upgrades the ledger tables (store name <c>ledger</c> in <c>schema_migrations</c>).</summary>
    public Task MigrateAsync(CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, "ledger", Migrations, logger, cancellationToken);

    /// <summary>Keeps an undecodable upload; returns its id in <c>ingest_dead_letters</c>.</summary>
    public async Task<long> RecordDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(letter);
        await using var command = dataSource.CreateCommand(InsertDeadLetterSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = letter.ReceivedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(letter.GatewayId) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(letter.Topic) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(letter.Reason) });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = letter.Payload, NpgsqlDbType = NpgsqlDbType.Bytea });
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        Log.DeadLetterRecorded(logger, id, letter.GatewayId, letter.Topic, letter.Reason);
        return id;
    }

    /// <summary>Keeps the rejected readings not kept yet (insert-if-absent on the reading id), in one transaction; returns how many were new.</summary>
    public async Task<int> RecordRejectedAsync(IReadOnlyList<RejectedReading> readings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readings);
        if (readings.Count == 0)
        {
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // In id order, so two replicas recording overlapping batches wait for each other instead of deadlocking.
        foreach (var reading in readings.OrderBy(r => r.Id))
        {
            var command = new NpgsqlBatchCommand(InsertRejectedSql);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = reading.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(reading.GatewayId) });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = reading.Epoch });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = reading.Sequence });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(reading.Serial) });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(reading.Reason) });
            command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = reading.Raw, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = reading.ReceivedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(command);
        }
        var recorded = await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.ReadingsRejected(logger, recorded, readings.Count, readings[0].GatewayId);
        return recorded;
    }

    /// <summary>Deletes dead letters and rejected readings received before <c>now - retention days</c>; returns rows deleted.</summary>
    public async Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now.AddDays(-retentionDays);
        var deleted = 0;
        foreach (var table in (string[])[DeadLettersTable, RejectedTable])
        {
            var sql = $"""
                DELETE FROM {table}
                WHERE ctid = ANY (ARRAY (SELECT ctid FROM {table} WHERE received_at < $1 LIMIT {RetentionBatch}))
                """;
            for (var i = 0; i < RetentionMaxBatches; i++)
            {
                await using var command = dataSource.CreateCommand(sql);
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                var rows = await command.ExecuteNonQueryAsync(cancellationToken);
                deleted += rows;
                if (rows < RetentionBatch)
                {
                    break;
                }
            }
        }
        if (deleted > 0)
        {
            Log.RetentionApplied(logger, "ingest ledger", cutoff, 0, string.Empty, deleted);
        }
        return deleted;
    }
}
