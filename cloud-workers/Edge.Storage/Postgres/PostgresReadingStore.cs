using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Analytics;
using Edge.Storage.Queries;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Postgres;

/// <summary>
/// What the PostgreSQL reading stores (CPAP, Oxygen, ECG) have in common: one table written through a
/// <see cref="PostgresReadingTable"/> (the identity columns, the idempotent COPY, partitions and retention), read through
/// <see cref="PostgresTelemetryQueries"/>, with its hourly rollups kept in the write transaction. A store adds its own
/// columns, migrations, row writer and query SQL, and the reading type it takes.
/// </summary>
/// <typeparam name="TTelemetry">The readings the store takes; a batch holding anything else is refused before it is written.</typeparam>
/// <typeparam name="THour">The store's hourly rollup.</typeparam>
public abstract class PostgresReadingStore<TTelemetry, THour> : IReadingStore
    where TTelemetry : Telemetry
    where THour : IRollupHour
{
    // name: the store's name in logs, in schema_migrations and in refusals; storeColumns: its own columns after
    // ReadingHeader.Columns, in the order writeRow writes them; kinds: the device kinds whose readings the table holds.
    private protected PostgresReadingStore(
        NpgsqlDataSource dataSource, string name, string table, string storeColumns, RowWriter writeRow, TelemetryTableSql querySql,
        RollupDefinition<THour> rollup, int retentionDays, TimeProvider time, ILogger logger, params DeviceKind[] kinds)
    {
        Name = name;
        var rollups = new PostgresHourlyRollups<THour>(dataSource, rollup, logger);
        Hours = rollups;
        var metricRollup = MetricRollup.For(name, querySql, kinds[0]);
        var metricHours = new PostgresHourlyRollups<MetricHour>(dataSource, metricRollup, logger);
        MetricHours = metricHours;
        Storage = new PostgresReadingTable(dataSource, name, table, storeColumns, writeRow, retentionDays, time, logger,
            new RollupWriters(rollups, metricHours));
        Queries = new PostgresTelemetryQueries(dataSource, name, querySql, kinds);
        Summaries = MetricSummaries.Postgres(dataSource, metricRollup, metricHours, name, kinds);
    }

    public string Name { get; }

    /// <summary>The hourly rollups kept with every write, for the analytics.</summary>
    public IHourlyRollups<THour> Hours { get; }

    /// <summary>The per-metric hourly rollup kept with every write, for the trend summaries.</summary>
    public IHourlyRollups<MetricHour> MetricHours { get; }

    internal PostgresReadingTable Storage { get; }

    internal MetricSummaries Summaries { get; }

    internal PostgresTelemetryQueries Queries { get; }

    /// <summary>Applies the store's migrations (<see cref="PostgresReadingTable.MigrateAsync"/>).</summary>
    public abstract Task MigrateAsync(CancellationToken cancellationToken);

    public Task<int> WriteAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        StoreGuard.RequireAll<TTelemetry>(readings, Name);
        return Storage.WriteAsync(readings, cancellationToken);
    }

    public Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Storage.ApplyRetentionAsync(now, cancellationToken);

    public Task<TelemetryPage> QueryAsync(TelemetryQuery query, CancellationToken cancellationToken) =>
        Queries.QueryAsync(query, cancellationToken);

    /// <summary>From the per-metric hourly rollup (<see cref="MetricSummaries"/>), not a scan of the readings.</summary>
    public Task<IReadOnlyList<SummaryRow>> SummarizeAsync(SummaryQuery query, CancellationToken cancellationToken) =>
        Summaries.SummarizeAsync(query, cancellationToken);
}
