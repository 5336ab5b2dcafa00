using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Edge.Storage.Tests.Routing;

/// <summary>The session settings each process's connections get from the factory.</summary>
[Collection(PostgresServer.Collection)]
public sealed class StoreFactoryConnectionTests(PostgresServer server) : PostgresTest(server)
{
    [Fact]
    public async Task The_APIs_connections_run_without_JIT_and_the_workers_keep_the_servers_default()
    {
        await using var api = Factory(DatabaseRole.Api, ConnectionString);
        await using var worker = Factory(DatabaseRole.Worker, ConnectionString);

        Assert.Equal("off", await JitAsync(api.Registry));
        Assert.Equal("on", await JitAsync(worker.Registry));
        Assert.Equal("on", await JitAsync(Probe));
    }

    [Fact]
    public async Task A_connection_string_that_sets_jit_itself_wins_over_the_APIs_default()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Options = "-c jit=on" }.ConnectionString;
        await using var api = Factory(DatabaseRole.Api, connectionString);

        Assert.Equal("on", await JitAsync(api.Registry));
    }

    private static StoreFactory Factory(DatabaseRole role, string connectionString) => new(
        Options.Create(new StorageOptions { Cpap = connectionString, Oxygen = connectionString, Ecg = connectionString }),
        TimeProvider.System, NullLoggerFactory.Instance, role);

    private static async Task<string> JitAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SHOW jit");
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
