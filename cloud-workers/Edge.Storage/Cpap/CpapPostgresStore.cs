using System.Buffers;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Analytics;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Cpap;

/// <summary>
/// CPAP/BiPAP readings in PostgreSQL for single-database installs and the local demo: the journal identity as columns,
/// the reading as the <c>DeviceData</c> document in <c>data jsonb</c>, monthly partitions on device time.
/// </summary>
public sealed class CpapPostgresStore : PostgresReadingStore<CpapTelemetry, CpapHour>
{
    public const string Table = "cpap_device_data";

    internal static readonly Migration[] Migrations =
    [
        new(1, "cpap_device_data (DeviceData as jsonb), partitioned by month on device_time", $"""
            CREATE TABLE {Table} (
            {ReadingHeader.CreateColumns(12)}
                data                jsonb       NOT NULL,
                PRIMARY KEY (id, device_time)
            ) PARTITION BY RANGE (device_time);
            CREATE TABLE {Table}_default PARTITION OF {Table} DEFAULT;
            CREATE INDEX {Table}_serial_time ON {Table} (serial, device_time, seq);
            """),
        // The telemetry API pages by (device_time, id), the unique key; this makes a page one index range scan.
        new(2, "index cpap_device_data (serial, device_time, id) for keyset pages", $"""
            CREATE INDEX {Table}_serial_time_id ON {Table} (serial, device_time, id);
            """),
        // Nothing queries by (serial, device_time, seq): pages and summaries use the index above. One index less is
        // one B-tree insert less for every stored reading.
        new(3, "drop the unused index cpap_device_data (serial, device_time, seq)", $"""
            DROP INDEX IF EXISTS {Table}_serial_time;
            """),
        // A device's re-send journaled again under another sequence (its PUBACK lost, the agent restarted after the
        // reading was synced) is the same content: stored once (docs/stores.md).
        ReadingHeader.ContentIdMigration(4, Table),
    ];

    // No raw copy of the payload is kept: the device's fields of the DeviceData document stand in for it (the gateway
    // block, seq and urgent are ours, not the device's). Alarms: CPAP readings have no alarm field, only the urgent lane.
    private static readonly TelemetryTableSql QuerySql = new(
        Table,
        Payload: """
            jsonb_strip_nulls(jsonb_build_object(
                'serial', data->'serial', 'timestamp', data->'timestamp', 'metrics', data->'metrics', 'firmware', data->'firmware'))
            """,
        Alarm: "urgent",
        Metrics: new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ReadingMetrics.PressureCmH2O] = "(data->'metrics'->>'pressure_cm_h2o')::double precision",
            [ReadingMetrics.RespiratoryRate] = "(data->'metrics'->>'respiratory_rate')::double precision",
            [ReadingMetrics.LeakRateLpm] = "(data->'metrics'->>'leak_rate_lpm')::double precision",
        });

    // The column after ReadingHeader.Columns, which WriteRowAsync writes.
    private const string StoreColumns = "data";

    public CpapPostgresStore(NpgsqlDataSource dataSource, int retentionDays, TimeProvider time, ILogger<CpapPostgresStore> logger)
        : base(dataSource, "cpap", Table, StoreColumns, WriteRowAsync, QuerySql, new CpapRollup(), retentionDays, time, logger, DeviceKind.Cpap, DeviceKind.Bipap)
    {
    }

    public override Task MigrateAsync(CancellationToken cancellationToken) => Storage.MigrateAsync(Migrations, cancellationToken);

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken)
    {
        // A document is a few hundred bytes, written straight to UTF-8 and handed to COPY as jsonb bytes (no string).
        var buffer = new ArrayBufferWriter<byte>(512);
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            DeviceDataDocument.WriteJson(writer, reading);
        }
        await importer.WriteAsync(buffer.WrittenMemory, NpgsqlDbType.Jsonb, cancellationToken);
    }
}
