using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Analytics;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Ecg;

/// <summary>
/// ECG readings in PostgreSQL: typed columns plus the raw JSON, in a TimescaleDB hypertable when the extension can be
/// used, in native monthly partitions (like oxygen) when it cannot.
/// </summary>
/// <remarks>The layout is chosen once, by the migration that creates the table; later migrations keep it.</remarks>
public sealed class EcgStore : PostgresReadingStore<EcgTelemetry, EcgHour>
{
    public const string Table = "ecg_readings";

    /// <summary>
    /// True when TimescaleDB is installed in the database, or available and preloaded. Available alone is not enough:
    /// <c>CREATE EXTENSION timescaledb</c> fails unless the server preloads it (<c>shared_preload_libraries</c>).
    /// </summary>
    internal const string TimescaleUsableSql = """
        SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
            OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
                AND current_setting('shared_preload_libraries') LIKE '%timescaledb%')
        """;

    // The CHECK ranges and lists are PayloadRules.EcgTelemetry's (docs/payloads.md); a change there needs a migration here.
    private static readonly string Columns = $"""
        {ReadingHeader.CreateColumns(17)}
            heart_rate_bpm      double precision NOT NULL CONSTRAINT heart_rate_bpm_range CHECK (heart_rate_bpm BETWEEN 0 AND 400),
            qrs_ms              double precision NOT NULL CONSTRAINT qrs_ms_range CHECK (qrs_ms BETWEEN 0 AND 400),
            qt_ms               double precision NOT NULL CONSTRAINT qt_ms_range CHECK (qt_ms BETWEEN 0 AND 1000),
            arrhythmia          text             NOT NULL CONSTRAINT arrhythmia_length CHECK (char_length(arrhythmia) BETWEEN 1 AND 64),
            signal_quality      text             NOT NULL CONSTRAINT signal_quality_known CHECK (signal_quality IN ('good', 'fair', 'poor')),
            lead                text             NOT NULL CONSTRAINT lead_known CHECK (lead IN ('I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6')),
            raw                 jsonb            NOT NULL,
            PRIMARY KEY (id, device_time)
        """;

    // The columns after ReadingHeader.Columns, in the order WriteRowAsync writes them.
    private const string StoreColumns = "heart_rate_bpm, qrs_ms, qt_ms, arrhythmia, signal_quality, lead, raw, hrv_rmssd_ms";

    // Alarms: the gateway's urgent lane, or an arrhythmia other than "none" (compared as the gateway does, any case).
    private static readonly TelemetryTableSql QuerySql = new(
        Table,
        Payload: "raw",
        Alarm: "(urgent OR lower(arrhythmia) <> 'none')",
        Metrics: new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ReadingMetrics.HeartRateBpm] = "heart_rate_bpm",
            [ReadingMetrics.QrsMs] = "qrs_ms",
            [ReadingMetrics.QtMs] = "qt_ms",
            [ReadingMetrics.HrvRmssdMs] = "hrv_rmssd_ms",
        });

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<EcgStore> _logger;

    public EcgStore(NpgsqlDataSource dataSource, int retentionDays, TimeProvider time, ILogger<EcgStore> logger)
        : base(dataSource, "ecg", Table, StoreColumns, WriteRowAsync, QuerySql, new EcgRollup(), retentionDays, time, logger, DeviceKind.Ecg)
    {
        _dataSource = dataSource;
        _logger = logger;
    }

    /// <summary>
    /// The ECG migrations for a database with (<paramref name="timescale"/>) or without TimescaleDB. Version 1 differs:
    /// a hypertable with 7-day chunks (TimescaleDB's default), or monthly partitions and a default partition. Later
    /// versions are the same for both.
    /// </summary>
    internal static Migration[] Migrations(bool timescale) =>
    [
        timescale
            ? new(1, "ecg_readings as a TimescaleDB hypertable on device_time", $"""
                CREATE EXTENSION IF NOT EXISTS timescaledb;
                CREATE TABLE {Table} (
                {Columns}
                );
                SELECT create_hypertable('{Table}', 'device_time', chunk_time_interval => INTERVAL '7 days');
                CREATE INDEX {Table}_serial_time ON {Table} (serial, device_time, seq);
                """)
            : new(1, "ecg_readings, partitioned by month on device_time", $"""
                CREATE TABLE {Table} (
                {Columns}
                ) PARTITION BY RANGE (device_time);
                CREATE TABLE {Table}_default PARTITION OF {Table} DEFAULT;
                CREATE INDEX {Table}_serial_time ON {Table} (serial, device_time, seq);
                """),
        // The telemetry API pages by (device_time, id), the unique key; this makes a page one index range scan.
        new(2, "index ecg_readings (serial, device_time, id) for keyset pages", $"""
            CREATE INDEX {Table}_serial_time_id ON {Table} (serial, device_time, id);
            """),
        // Nothing queries by (serial, device_time, seq): pages and summaries use the index above. One index less is
        // one B-tree insert less for every stored reading.
        new(3, "drop the unused index ecg_readings (serial, device_time, seq)", $"""
            DROP INDEX IF EXISTS {Table}_serial_time;
            """),
        // A device's re-send journaled again under another sequence (its PUBACK lost, the agent restarted after the
        // reading was synced) is the same content: stored once (docs/stores.md). The same on a hypertable.
        ReadingHeader.ContentIdMigration(4, Table),
        // Optional heart-rate variability (RMSSD); NULL for readings of firmware that does not send it, and for rows
        // stored before it. The range is PayloadRules.EcgTelemetry's.
        new(5, "ecg_readings.hrv_rmssd_ms", $"""
            ALTER TABLE {Table} ADD COLUMN IF NOT EXISTS hrv_rmssd_ms double precision
                CONSTRAINT hrv_rmssd_ms_range CHECK (hrv_rmssd_ms BETWEEN 0 AND 300);
            """),
    ];

    public override async Task MigrateAsync(CancellationToken cancellationToken)
    {
        bool timescale;
        await using (var command = _dataSource.CreateCommand(TimescaleUsableSql))
        {
            timescale = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        var layout = await Storage.MigrateAsync(Migrations(timescale), cancellationToken);
        Log.EcgLayout(_logger, Table, layout == TableLayout.Hypertable ? "TimescaleDB hypertable" : "native monthly partitions", timescale);
    }

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken)
    {
        var ecg = (EcgTelemetry)reading.Reading;
        var metrics = ecg.Metrics;
        await importer.WriteAsync(metrics.HeartRateBpm, NpgsqlDbType.Double, cancellationToken);
        await importer.WriteAsync(metrics.QrsMs, NpgsqlDbType.Double, cancellationToken);
        await importer.WriteAsync(metrics.QtMs, NpgsqlDbType.Double, cancellationToken);
        await ReadingHeader.WriteTextAsync(importer, metrics.Arrhythmia, cancellationToken);
        await ReadingHeader.WriteTextAsync(importer, metrics.SignalQuality, cancellationToken);
        await ReadingHeader.WriteTextAsync(importer, ecg.Lead, cancellationToken);
        await ReadingHeader.WriteJsonAsync(importer, reading.RawJson, cancellationToken);
        await ReadingHeader.WriteDoubleAsync(importer, metrics.HrvRmssdMs, cancellationToken);
    }
}
