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

/// <summary>Writes a row's own columns (those after the <see cref="ReadingHeader"/>), in the order of the store's column list.</summary>
internal delegate Task RowWriter(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken);

/// <summary>
/// The machinery the PostgreSQL stores share: migrations, partitions ahead of need, the idempotent COPY write path,
/// one retry on a dropped connection, and retention.
/// </summary>
/// <remarks>
/// <para>
/// A batch is written with one binary COPY straight into the table. Two unique keys make that all or nothing: the
/// primary key on the reading's journal id, and the content id (the device serial and payload bytes, see
/// <see cref="Edge.Contracts.Identity.ContentId"/>). When any reading of the batch is stored already (a re-sent batch,
/// another replica with the same batch, or the device's re-send of a reading journaled again under another epoch or
/// sequence), or the batch holds the same content twice, the COPY fails with a unique violation and stores nothing, and
/// the batch is written again through a staging table with <c>INSERT … ON CONFLICT DO NOTHING</c> (any unique key),
/// which stores exactly the readings that are missing, each content once; the rest count as duplicates.
/// Re-sends are rare, so almost every batch costs one statement; staging every batch cost a temporary table, a second
/// copy of every row and an <c>INSERT … SELECT</c> (measured in docs/performance.md).
/// </para>
/// <para>
/// Rows go in id order (PostgreSQL's uuid order) on both paths, so two writers holding overlapping readings wait for
/// each other instead of deadlocking.
/// </para>
/// <para>
/// Holds no connection between calls: every call takes one from the data source's pool and returns it, so a database
/// restart costs at most the one retried attempt (after which the pool's idle connections, all dead, are cleared).
/// </para>
/// </remarks>
/// <para>
/// The table's hourly rollups (<see cref="Analytics.IRollupWriter"/>) are added to in the same transaction, from exactly
/// the readings it inserted: all of them after the COPY, those <c>RETURNING id</c> names on the staging path. A batch
/// stored twice counts once, and a failed write leaves neither readings nor rollups behind.
/// </para>
internal sealed class PostgresReadingTable(
    NpgsqlDataSource dataSource, string store, string table, string columns, RowWriter writeRow,
    int retentionDays, TimeProvider time, ILogger logger, Analytics.IRollupWriter rollups)
{
    private const string LayoutSql = "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)";
    private const string DropChunksSql = "SELECT count(*)::int FROM drop_chunks($1::regclass, older_than => $2::timestamptz)";

    private readonly MonthlyPartitions _partitions = new(dataSource, table, logger);
    private readonly string _copySql = CopySql(table, columns);
    private readonly string _stagingSql = $"CREATE TEMP TABLE {table}_staging (LIKE {table}) ON COMMIT DROP";
    private readonly string _stagingCopySql = CopySql($"{table}_staging", columns);
    private readonly string _insertMissingSql = $"""
        INSERT INTO {table} ({ReadingHeader.Columns}, {columns})
        SELECT {ReadingHeader.Columns}, {columns} FROM {table}_staging
        ORDER BY id
        ON CONFLICT DO NOTHING
        RETURNING id
        """;
    private TableLayout? _layout;

    public string Table => table;

    /// <summary>The migration store of the arrival-order page index: <c>{store}-arrival-order</c>.</summary>
    public string ArrivalOrderStore => $"{store}-arrival-order";

    public MonthlyPartitions Partitions => _partitions;

    /// <summary>Applies the migrations, learns the layout they made, and creates the partitions ahead of now.</summary>
    public async Task<TableLayout> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await SchemaMigrator.ApplyAsync(dataSource, PartitionFunctions.Store, PartitionFunctions.Migrations, logger, cancellationToken);
        await SchemaMigrator.ApplyAsync(dataSource, store, migrations, logger, cancellationToken);
        // A store of its own (e.g. "oxygen-arrival-order"), so the reading stores' own version numbers stay free for
        // their columns: the page index with equal device times in arrival order (PostgresTelemetryQueries).
        await SchemaMigrator.ApplyAsync(dataSource, ArrivalOrderStore, [Queries.PostgresTelemetryQueries.ArrivalOrderIndex(1, table)], logger, cancellationToken);
        await rollups.MigrateAsync(cancellationToken);
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
        var cutoff = now.AddDays(-retentionDays);
        // Hours wholly before the cutoff: the rollups keep no more history than the readings do.
        await rollups.ApplyRetentionAsync(cutoff, cancellationToken);
        if (layout == TableLayout.NativePartitions)
        {
            return await _partitions.ApplyRetentionAsync(now, retentionDays, cancellationToken);
        }

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
        var ordered = readings.ToArray();
        Array.Sort(ordered, static (a, b) => UuidOrder.Compare(a.Id, b.Id));
        var storedAt = time.GetUtcNow().UtcDateTime;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                // The COPY stores every reading or none, so on success the whole batch is what the rollups add.
                await CopyAsync(connection, _copySql, ordered, storedAt, cancellationToken);
                await rollups.AddAsync(connection, transaction, ordered, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                Log.BatchWritten(logger, store, ordered.Length, ordered.Length);
                return ordered.Length;
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await transaction.RollbackAsync(cancellationToken);
            }
        }

        var stored = await InsertMissingAsync(connection, ordered, storedAt, cancellationToken);
        Log.BatchWritten(logger, store, ordered.Length, stored);
        return stored;
    }

    /// <summary>The slow path for a batch some of whose readings are stored: staging table, then insert-if-absent.</summary>
    private async Task<int> InsertMissingAsync(NpgsqlConnection connection, StoredReading[] ordered, DateTime storedAt, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(_stagingSql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await CopyAsync(connection, _stagingCopySql, ordered, storedAt, cancellationToken);
        var inserted = new HashSet<Guid>();
        await using (var command = new NpgsqlCommand(_insertMissingSql, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetGuid(0));
            }
        }
        var added = new List<StoredReading>(inserted.Count);
        foreach (var reading in ordered)
        {
            if (inserted.Contains(reading.Id))
            {
                added.Add(reading);
            }
        }
        await rollups.AddAsync(connection, transaction, added, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return inserted.Count;
    }

    private async Task CopyAsync(NpgsqlConnection connection, string copySql, StoredReading[] ordered, DateTime storedAt, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(copySql, cancellationToken);
        foreach (var reading in ordered)
        {
            await importer.StartRowAsync(cancellationToken);
            await ReadingHeader.WriteAsync(importer, reading, storedAt, cancellationToken);
            await writeRow(importer, reading, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    private static string CopySql(string target, string columns) =>
        $"COPY {target} ({ReadingHeader.Columns}, {columns}) FROM STDIN (FORMAT BINARY)";

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
/// id, content_id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent.</summary>
internal static class ReadingHeader
{
    public const string Columns = "id, content_id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent";

    // The identity columns as migration 1 of every reading table created them (content_id came later, in
    // ContentIdMigration): name, type, constraint.
    private static readonly (string Name, string Type)[] CreatedColumns =
    [
        ("id", "uuid"), ("serial", "text"), ("gateway_id", "text"), ("epoch", "bigint"), ("seq", "bigint"), ("device_time", "timestamptz"),
        ("gateway_received_at", "timestamptz"), ("stored_at", "timestamptz"), ("urgent", "boolean"),
    ];

    /// <summary>
    /// The identity columns' lines of a reading table's <c>CREATE TABLE</c>, one per column, each indented four spaces,
    /// with the name padded to 20 characters and the type to <paramref name="typeWidth"/> so that the store's own columns,
    /// written below them, line up. Released migrations embed it: the text it gives must never change.
    /// </summary>
    public static string CreateColumns(int typeWidth) =>
        string.Join('\n', CreatedColumns.Select(c => $"    {c.Name,-20}{c.Type.PadRight(typeWidth)}NOT NULL,"));

    /// <summary>
    /// The migration every reading table gets to keep a reading once however the gateway journaled it: the content id
    /// (<see cref="StoredReading.ContentId"/>) as a column, unique with the device time (a unique index of a partitioned
    /// table or a hypertable must hold the partitioning column; a reading's device time is in its payload, so the same
    /// content always has the same one). Rows stored before it have no content id: NULL, which a unique index allows
    /// any number of times.
    /// </summary>
    public static Migration ContentIdMigration(int version, string table) => new(version, $"{table}.content_id, unique with device_time", $"""
        ALTER TABLE {table} ADD COLUMN IF NOT EXISTS content_id uuid;
        CREATE UNIQUE INDEX IF NOT EXISTS {table}_content_id ON {table} (content_id, device_time);
        """);

    public static async Task WriteAsync(NpgsqlBinaryImporter importer, StoredReading reading, DateTime storedAt, CancellationToken cancellationToken)
    {
        await importer.WriteAsync(reading.Id, NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(reading.ContentId, NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(reading.Serial.Value, NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(PgText.Clean(reading.GatewayId), NpgsqlDbType.Text, cancellationToken);
        await importer.WriteAsync(reading.Epoch, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(reading.Sequence, NpgsqlDbType.Bigint, cancellationToken);
        await importer.WriteAsync(reading.DeviceTime.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(reading.GatewayReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(storedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        await importer.WriteAsync(reading.Urgent, NpgsqlDbType.Boolean, cancellationToken);
    }

    public static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(PgText.Clean(value), NpgsqlDbType.Text, cancellationToken);

    public static Task WriteDoubleAsync(NpgsqlBinaryImporter importer, double? value, CancellationToken cancellationToken) =>
        value is { } number ? importer.WriteAsync(number, NpgsqlDbType.Double, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    /// <summary>Raw JSON bytes straight into a jsonb column (no string round trip); PostgreSQL parses them once.</summary>
    public static Task WriteJsonAsync(NpgsqlBinaryImporter importer, ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
        importer.WriteAsync(PgText.CleanJson(json), NpgsqlDbType.Jsonb, cancellationToken);
}

/// <summary>PostgreSQL's uuid order (the 16 bytes compared as unsigned, in RFC 4122 byte order), which <see cref="Guid.CompareTo(Guid)"/> is not.</summary>
internal static class UuidOrder
{
    public static int Compare(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }
}
