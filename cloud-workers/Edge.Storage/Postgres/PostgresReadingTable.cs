using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Postgres;

/// <summary>How a reading table is split by time.</summary>
internal enum TableLayout
{
    /// <summary>Declarative monthly range partitions plus a default partition, kept by <see cref="MonthlyPartitions"/>.</summary>
    NativePartitions,

    /// <summary>A TimescaleDB hypertable: chunks are created by the extension and dropped with <c>drop_chunks</c>.</summary>
    Hypertable,
}

/// <summary>Writes one row's columns of a batch to the staging table, in the order of its COPY command.</summary>
internal delegate Task RowWriter(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken);

/// <summary>The SQL a reading table is written with: staging table, binary COPY into it, insert-if-absent out of it.</summary>
/// <param name="Staging">Creates the temporary staging table (<c>ON COMMIT DROP</c>).</param>
/// <param name="Copy">The <c>COPY … FROM STDIN (FORMAT BINARY)</c> into the staging table.</param>
/// <param name="Insert">Inserts from staging into the table with <c>ON CONFLICT DO NOTHING</c>; <c>$1</c> is stored_at.</param>
internal sealed record ReadingTableSql(string Staging, string Copy, string Insert);

/// <summary>
/// The machinery the PostgreSQL stores share: migrations, partitions ahead of need, the COPY→staging→INSERT write path,
/// one retry on a dropped connection, and retention.
/// </summary>
/// <remarks>
/// Holds no connection between calls: every call takes one from the data source's pool and returns it, so a database
/// restart costs at most the one retried attempt (after which the pool's idle connections, all dead, are cleared).
/// </remarks>
internal sealed class PostgresReadingTable(
    NpgsqlDataSource dataSource, string store, string table, ReadingTableSql sql, RowWriter writeRow,
    int retentionDays, TimeProvider time, ILogger logger)
{
    private const string LayoutSql = "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)";
    private const string DropChunksSql = "SELECT count(*)::int FROM drop_chunks($1::regclass, older_than => $2::timestamptz)";

    private readonly MonthlyPartitions _partitions = new(dataSource, table, logger);
    private TableLayout? _layout;

    public string Table => table;

    public MonthlyPartitions Partitions => _partitions;

    /// <summary>Applies the migrations, learns the layout they made, and creates the partitions ahead of now.</summary>
    public async Task<TableLayout> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await SchemaMigrator.ApplyAsync(dataSource, store, migrations, logger, cancellationToken);
        var layout = await DetectLayoutAsync(cancellationToken);
        if (layout == TableLayout.NativePartitions)
        {
            await _partitions.RefreshAsync(cancellationToken);
            await _partitions.EnsureAheadAsync(time.GetUtcNow(), cancellationToken);
        }
        _layout = layout;
        return layout;
    }

    /// <summary>Stores the readings not stored yet in one transaction and returns how many were new.</summary>
    public async Task<int> WriteAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        if (readings.Count == 0)
        {
            return 0;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var layout = _layout ??= await DetectLayoutAsync(cancellationToken);
                if (layout == TableLayout.NativePartitions)
                {
                    // Outside the write transaction: DDL there would hold its locks for the whole batch.
                    await _partitions.EnsureForAsync(readings, time.GetUtcNow(), retentionDays, cancellationToken);
                }
                return await WriteOnceAsync(readings, cancellationToken);
            }
            catch (Exception error) when (attempt == 1 && PgErrors.IsRetryable(error, out var connectionLost))
            {
                // Safe to repeat whatever happened to the first attempt, even a commit whose answer was lost: the
                // insert is idempotent. The pool is cleared so the retry opens a fresh connection.
                if (connectionLost)
                {
                    dataSource.Clear();
                }
                Log.WriteRetried(logger, store, readings.Count, connectionLost, error);
            }
        }
    }

    /// <summary>Removes readings older than the retention; see <see cref="IReadingStore.ApplyRetentionAsync"/>.</summary>
    public async Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var layout = _layout ??= await DetectLayoutAsync(cancellationToken);
        if (layout == TableLayout.NativePartitions)
        {
            return await _partitions.ApplyRetentionAsync(now, retentionDays, cancellationToken);
        }

        var cutoff = now.AddDays(-retentionDays);
        await using var command = dataSource.CreateCommand(DropChunksSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff.UtcDateTime });
        var dropped = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (dropped > 0)
        {
            Log.RetentionApplied(logger, table, cutoff, dropped, "TimescaleDB chunks", 0);
        }
        return dropped;
    }

    private async Task<int> WriteOnceAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(sql.Staging, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var importer = await connection.BeginBinaryImportAsync(sql.Copy, cancellationToken))
        {
            for (var i = 0; i < readings.Count; i++)
            {
                await importer.StartRowAsync(cancellationToken);
                await writeRow(importer, readings[i], cancellationToken);
            }
            await importer.CompleteAsync(cancellationToken);
        }

        int stored;
        await using (var command = new NpgsqlCommand(sql.Insert, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            stored = await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        Log.BatchWritten(logger, store, readings.Count, stored);
        return stored;
    }

    private async Task<TableLayout> DetectLayoutAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(LayoutSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        return await command.ExecuteScalarAsync(cancellationToken) switch
        {
            'p' => TableLayout.NativePartitions,
            'r' => TableLayout.Hypertable,
            null => throw new InvalidOperationException($"Table {table} does not exist: the {store} store's MigrateAsync must run before it is written to."),
            var kind => throw new InvalidOperationException($"Table {table} has relkind '{kind}'; expected a partitioned table or a TimescaleDB hypertable."),
        };
    }
}

/// <summary>Writes the columns every reading table starts with, in this order:
/// id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, urgent.</summary>
internal static class ReadingHeader
{
    public const string StagingColumns = """
        id uuid, serial text, gateway_id text, epoch bigint, seq bigint,
        device_time timestamptz, gateway_received_at timestamptz, urgent boolean
        """;

    public const string Columns = "id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, urgent";

    public static async Task WriteAsync(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken)
    {
        await importer.WriteAsync(reading.Id, NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(reading.Serial.Value, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(PgText.Clean(reading.GatewayId), NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(reading.Epoch, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(reading.Sequence, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(reading.DeviceTime.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(reading.GatewayReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(reading.Urgent, NpgsqlDbType.Boolean, cancellationToken);
    }

    public static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(PgText.Clean(value), NpgsqlDbType.Text, cancellationToken);

    public static Task WriteDoubleAsync(NpgsqlBinaryImporter importer, double? value, CancellationToken cancellationToken) =>
        value is { } number ? importer.WriteAsync(number, NpgsqlDbType.Double, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    /// <summary>Raw JSON goes to staging as bytea (no string round trip) and becomes jsonb in the insert.</summary>
    public static Task WriteJsonBytesAsync(NpgsqlBinaryImporter importer, ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
        importer.WriteAsync(PgText.CleanJson(json), NpgsqlDbType.Bytea, cancellationToken);
}
