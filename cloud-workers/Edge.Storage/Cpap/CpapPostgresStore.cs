using System.Buffers;
using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Cpap;

/// <summary>
/// CPAP/BiPAP readings in PostgreSQL for single-database installs and the local demo: the journal identity as columns,
/// the reading as the <c>DeviceData</c> document in <c>data jsonb</c>, monthly partitions on device time.
/// </summary>
public sealed class CpapPostgresStore : IReadingStore
{
    public const string Table = "cpap_device_data";

    internal static readonly Migration[] Migrations =
    [
        new(1, "cpap_device_data (DeviceData as jsonb), partitioned by month on device_time", $"""
            CREATE TABLE {Table} (
                id                  uuid        NOT NULL,
                serial              text        NOT NULL,
                gateway_id          text        NOT NULL,
                epoch               bigint      NOT NULL,
                seq                 bigint      NOT NULL,
                device_time         timestamptz NOT NULL,
                gateway_received_at timestamptz NOT NULL,
                stored_at           timestamptz NOT NULL,
                urgent              boolean     NOT NULL,
                data                jsonb       NOT NULL,
                PRIMARY KEY (id, device_time)
            ) PARTITION BY RANGE (device_time);
            CREATE TABLE {Table}_default PARTITION OF {Table} DEFAULT;
            CREATE INDEX {Table}_serial_time ON {Table} (serial, device_time, seq);
            """),
    ];

    private static readonly ReadingTableSql Sql = new(
        Staging: $"""
            CREATE TEMP TABLE cpap_staging ({ReadingHeader.StagingColumns}, data bytea) ON COMMIT DROP
            """,
        Copy: $"""
            COPY cpap_staging ({ReadingHeader.Columns}, data) FROM STDIN (FORMAT BINARY)
            """,
        Insert: $"""
            INSERT INTO {Table} ({ReadingHeader.Columns}, stored_at, data)
            SELECT {ReadingHeader.Columns}, $1, convert_from(data, 'UTF8')::jsonb
            FROM cpap_staging
            ORDER BY id
            ON CONFLICT DO NOTHING
            """);

    private readonly PostgresReadingTable _table;

    public CpapPostgresStore(NpgsqlDataSource dataSource, int retentionDays, TimeProvider time, ILogger<CpapPostgresStore> logger)
    {
        _table = new PostgresReadingTable(dataSource, "cpap", Table, Sql, WriteRowAsync, retentionDays, time, logger);
    }

    public string Name => "cpap";

    internal PostgresReadingTable Storage => _table;

    public Task MigrateAsync(CancellationToken cancellationToken) => _table.MigrateAsync(Migrations, cancellationToken);

    public Task<int> WriteAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        StoreGuard.RequireAll<CpapTelemetry>(readings, Name);
        return _table.WriteAsync(readings, cancellationToken);
    }

    public Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        _table.ApplyRetentionAsync(now, cancellationToken);

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken)
    {
        await ReadingHeader.WriteAsync(importer, reading, cancellationToken);

        // A document is a few hundred bytes, written straight to UTF-8 and handed to COPY as bytes (no string).
        var buffer = new ArrayBufferWriter<byte>(512);
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            DeviceDataDocument.WriteJson(writer, reading);
        }
        await importer.WriteAsync(buffer.WrittenMemory, NpgsqlDbType.Bytea, cancellationToken);
    }
}
