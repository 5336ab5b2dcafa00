using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Analytics;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Oxygen;

/// <summary>Oxygen concentrator readings in PostgreSQL: typed columns plus the raw JSON, monthly partitions on device time.</summary>
public sealed class OxygenStore : PostgresReadingStore<OxygenTelemetry, OxygenHour>
{
    public const string Table = "oxygen_readings";

    // The CHECK ranges are PayloadRules.OxygenTelemetry's (docs/payloads.md). A reading outside them has skipped
    // validation, and failing its batch is safer than storing it. Widening a range there needs a migration here.
    internal static readonly Migration[] Migrations =
    [
        new(1, "oxygen_readings, partitioned by month on device_time", $"""
            CREATE TABLE {Table} (
            {ReadingHeader.CreateColumns(17)}
                oxygen_purity_pct   double precision NOT NULL CONSTRAINT oxygen_purity_pct_range CHECK (oxygen_purity_pct BETWEEN 0 AND 100),
                flow_rate_lpm       double precision NOT NULL CONSTRAINT flow_rate_lpm_range CHECK (flow_rate_lpm BETWEEN 0 AND 15),
                temperature_c       double precision NOT NULL CONSTRAINT temperature_c_range CHECK (temperature_c BETWEEN -20 AND 80),
                battery_pct         double precision          CONSTRAINT battery_pct_range CHECK (battery_pct BETWEEN 0 AND 100),
                alarm_code          text                      CONSTRAINT alarm_code_length CHECK (char_length(alarm_code) BETWEEN 1 AND 32),
                status              text                      CONSTRAINT status_length CHECK (char_length(status) <= 32),
                raw                 jsonb            NOT NULL,
                PRIMARY KEY (id, device_time)
            ) PARTITION BY RANGE (device_time);
            CREATE TABLE {Table}_default PARTITION OF {Table} DEFAULT;
            CREATE INDEX {Table}_serial_time ON {Table} (serial, device_time, seq);
            """),
        // The telemetry API pages by (device_time, id), the unique key; this makes a page one index range scan.
        new(2, "index oxygen_readings (serial, device_time, id) for keyset pages", $"""
            CREATE INDEX {Table}_serial_time_id ON {Table} (serial, device_time, id);
            """),
        // Nothing queries by (serial, device_time, seq): pages and summaries use the index above. One index less is
        // one B-tree insert less for every stored reading.
        new(3, "drop the unused index oxygen_readings (serial, device_time, seq)", $"""
            DROP INDEX IF EXISTS {Table}_serial_time;
            """),
        // A device's re-send journaled again under another sequence (its PUBACK lost, the agent restarted after the
        // reading was synced) is the same content: stored once (docs/stores.md).
        ReadingHeader.ContentIdMigration(4, Table),
    ];

    // Alarms: the gateway's urgent lane, or an alarm code the device reported (also from a gateway that did not flag it).
    private static readonly TelemetryTableSql QuerySql = new(
        Table,
        Payload: "raw",
        Alarm: "(urgent OR alarm_code IS NOT NULL)",
        Metrics: new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ReadingMetrics.OxygenPurityPct] = "oxygen_purity_pct",
            [ReadingMetrics.FlowRateLpm] = "flow_rate_lpm",
            [ReadingMetrics.TemperatureC] = "temperature_c",
            [ReadingMetrics.BatteryPct] = "battery_pct",
        });

    // The columns after ReadingHeader.Columns, in the order WriteRowAsync writes them.
    private const string StoreColumns = "oxygen_purity_pct, flow_rate_lpm, temperature_c, battery_pct, alarm_code, status, raw";

    public OxygenStore(NpgsqlDataSource dataSource, int retentionDays, TimeProvider time, ILogger<OxygenStore> logger)
        : base(dataSource, "oxygen", Table, StoreColumns, WriteRowAsync, QuerySql, new OxygenRollup(), retentionDays, time, logger, DeviceKind.Oxygen)
    {
    }

    public override Task MigrateAsync(CancellationToken cancellationToken) => Storage.MigrateAsync(Migrations, cancellationToken);

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, StoredReading reading, CancellationToken cancellationToken)
    {
        var oxygen = (OxygenTelemetry)reading.Reading;
        var metrics = oxygen.Metrics;
        await importer.WriteAsync(metrics.OxygenPurityPct, NpgsqlDbType.Double, cancellationToken);
        await importer.WriteAsync(metrics.FlowRateLpm, NpgsqlDbType.Double, cancellationToken);
        await importer.WriteAsync(metrics.TemperatureC, NpgsqlDbType.Double, cancellationToken);
        await ReadingHeader.WriteDoubleAsync(importer, metrics.BatteryPct, cancellationToken);
        await ReadingHeader.WriteTextAsync(importer, metrics.AlarmCode, cancellationToken);
        await ReadingHeader.WriteTextAsync(importer, oxygen.Status, cancellationToken);
        await ReadingHeader.WriteJsonAsync(importer, reading.RawJson, cancellationToken);
    }
}
