using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Ingest;
using Edge.Storage.Oxygen;
using Edge.Storage.Postgres;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Postgres;

[Collection(PostgresServer.Collection)]
public sealed class MigrationTests(PostgresServer server) : PostgresTest(server)
{
    [Fact]
    public async Task Migrations_are_recorded_once_and_a_second_run_changes_nothing()
    {
        var store = new OxygenStore(DataSource, 365, Clock, Logger<OxygenStore>());
        await store.MigrateAsync(CancellationToken.None);
        var firstApplied = await ScalarAsync<DateTime>("SELECT applied_at FROM schema_migrations WHERE store = 'oxygen' AND version = 1");
        await store.WriteAsync([Readings.Oxygen(1, Readings.January15)], CancellationToken.None);

        await store.MigrateAsync(CancellationToken.None);

        // The partition functions come with the first reading store of a database, once; the rollups with their store.
        Assert.Equal(["oxygen:1", "oxygen:2", "oxygen:3", "oxygen:4", "oxygen-arrival-order:1", "oxygen_metric_rollups:1", "oxygen_rollups:1", "partition_functions:1"], await ColumnAsync("SELECT store || ':' || version FROM schema_migrations ORDER BY store, version"));
        Assert.Equal(firstApplied, await ScalarAsync<DateTime>("SELECT applied_at FROM schema_migrations WHERE store = 'oxygen' AND version = 1"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
        Assert.Equal(4, (await PartitionsAsync("oxygen_readings")).Count);
    }

    [Fact]
    public async Task The_migrator_applies_only_versions_not_yet_recorded_in_order()
    {
        Migration[] v1 = [new(1, "t", "CREATE TABLE t (a int)")];
        Migration[] v1To3 = [.. v1, new(3, "t.c", "ALTER TABLE t ADD COLUMN c int"), new(2, "t.b", "ALTER TABLE t ADD COLUMN b int")];

        Assert.Equal(1, await SchemaMigrator.ApplyAsync(DataSource, "demo", v1, Logger<MigrationTests>(), CancellationToken.None));
        Assert.Equal(2, await SchemaMigrator.ApplyAsync(DataSource, "demo", v1To3, Logger<MigrationTests>(), CancellationToken.None));
        Assert.Equal(0, await SchemaMigrator.ApplyAsync(DataSource, "demo", v1To3, Logger<MigrationTests>(), CancellationToken.None));

        Assert.Equal(["a", "b", "c"], await ColumnAsync("SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"));
        Assert.Equal(["1", "2", "3"], await ColumnAsync("SELECT version FROM schema_migrations WHERE store = 'demo' ORDER BY version"));
    }

    [Fact]
    public async Task A_migration_longer_than_the_connections_command_timeout_is_not_cut_off()
    {
        // An upgrade's backfill of a large store outlasts any command timeout a runtime connection string sets.
        await using var hurried = NpgsqlDataSource.Create(ConnectionString + ";Command Timeout=1");
        Migration[] slow = [new(1, "backfill", "CREATE TABLE t AS SELECT 1 AS a FROM pg_sleep(2)")];

        Assert.Equal(1, await SchemaMigrator.ApplyAsync(hurried, "demo", slow, Logger<MigrationTests>(), CancellationToken.None));

        Assert.Equal(["demo:1"], await ColumnAsync("SELECT store || ':' || version FROM schema_migrations"));
    }

    [Fact]
    public async Task A_failing_migration_applies_and_records_nothing()
    {
        Migration[] other = [new(1, "u", "CREATE TABLE u (a int)")];
        Migration[] migrations = [new(1, "t", "CREATE TABLE t (a int)"), new(2, "broken", "ALTER TABLE missing ADD COLUMN b int")];
        await SchemaMigrator.ApplyAsync(DataSource, "other", other, Logger<MigrationTests>(), CancellationToken.None);

        await Assert.ThrowsAsync<PostgresException>(() =>
            SchemaMigrator.ApplyAsync(DataSource, "demo", migrations, Logger<MigrationTests>(), CancellationToken.None));

        Assert.Null(await ScalarAsync<string?>("SELECT to_regclass('t')::text"));
        Assert.Equal(["other:1"], await ColumnAsync("SELECT store || ':' || version FROM schema_migrations"));
    }

    [Fact]
    public async Task Three_replicas_starting_at_once_migrate_every_store_safely()
    {
        // Every store and the ledger in one database, as a single-database install has them.
        async Task ReplicaAsync()
        {
            var dataSource = NewDataSource();
            IReadingStore[] stores =
            [
                new OxygenStore(dataSource, 365, Clock, Logger<OxygenStore>()),
                new EcgStore(dataSource, 365, Clock, Logger<EcgStore>()),
                new CpapPostgresStore(dataSource, 365, Clock, Logger<CpapPostgresStore>()),
            ];
            foreach (var store in stores)
            {
                await store.MigrateAsync(CancellationToken.None);
            }
            await new IngestLedger(dataSource, 365, Logger<IngestLedger>()).MigrateAsync(CancellationToken.None);
        }

        await Task.WhenAll(Task.Run(ReplicaAsync), Task.Run(ReplicaAsync), Task.Run(ReplicaAsync));

        Assert.Equal(["cpap:1", "cpap:2", "cpap:3", "cpap:4", "cpap-arrival-order:1", "cpap_metric_rollups:1", "cpap_rollups:1", "ecg:1", "ecg:2", "ecg:3", "ecg:4", "ecg:5", "ecg-arrival-order:1", "ecg_metric_rollups:1", "ecg_rollups:1", "ledger:1", "ledger:2",
            "oxygen:1", "oxygen:2", "oxygen:3", "oxygen:4", "oxygen-arrival-order:1", "oxygen_metric_rollups:1", "oxygen_rollups:1", "partition_functions:1"],
            await ColumnAsync("SELECT store || ':' || version FROM schema_migrations ORDER BY store, version"));
        foreach (var table in (string[])["oxygen_readings", "ecg_readings", "cpap_device_data"])
        {
            Assert.Equal(4, (await PartitionsAsync(table)).Count);
        }
    }
}
