using Edge.Storage.Postgres;
using Edge.Storage.Registry;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Registry;

/// <summary>The registry's migrations on a database an earlier release left behind.</summary>
[Collection(PostgresServer.Collection)]
public sealed class RegistrySchemaTests(PostgresServer server) : PostgresTest(server)
{
    [Fact]
    public async Task Upgrading_gives_every_existing_device_one_ownership_period_from_its_registration()
    {
        await SchemaMigrator.ApplyAsync(DataSource, RegistrySchema.Store, RegistrySchema.Migrations[..2], Logger<RegistrySchemaTests>(), CancellationToken.None);
        await ExecuteAsync("""
            INSERT INTO clinics (id, name, created_at) VALUES ('north', 'North', '2026-01-01T00:00:00Z'), ('south', 'South', '2026-01-01T00:00:00Z');
            INSERT INTO devices (serial, kind, clinic_id, status, registered_at, retired_at) VALUES
                ('OXY-1000-0001', 'oxygen', 'north', 'active', '2026-02-01T08:00:00Z', NULL),
                ('ECG-1000-0002', 'ecg', 'south', 'retired', '2026-03-01T08:00:00Z', '2026-04-01T08:00:00Z');
            """);

        await RegistrySchema.MigrateAsync(DataSource, Logger<RegistrySchemaTests>(), CancellationToken.None);

        Assert.Equal(
            ["ECG-1000-0002|south|2026-03-01 08:00|2026-04-01 08:00", "OXY-1000-0001|north|2026-02-01 08:00|open"],
            await ColumnAsync("""
                SELECT serial || '|' || clinic_id || '|' || to_char(from_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || '|'
                       || COALESCE(to_char(to_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'open')
                FROM device_ownership ORDER BY serial
                """));
        // At most one open period per device: a second one is refused by the database itself.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            ExecuteAsync("INSERT INTO device_ownership (serial, clinic_id, from_at) VALUES ('OXY-1000-0001', 'south', now())"));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
