using System.Net;
using System.Net.Sockets;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.EndToEnd.Tests;

/// <summary>
/// A worker started before its database (a host rebooting, a failover) waits for it and then starts, instead of
/// aborting; a server that answers and refuses (no such database, a wrong password) still stops the start.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class DatabaseLateAtStartTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_worker_started_before_its_database_waits_for_it_and_then_migrates()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        var port = FreePort.Next();
        var late = new NpgsqlConnectionStringBuilder(cloud.ConnectionString) { Port = port, Timeout = 3 }.ConnectionString;
        var starting = cloud.StartWorkerAsync("ingest-late-db", settings: Stores(late));

        // Nothing listens on the port yet: the worker keeps trying (the start neither completes nor fails).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(starting.IsCompleted, starting.Exception?.ToString() ?? "the worker started without its database");

        using var proxy = TcpForwarder.Start(port, postgres.Port);
        await starting.WaitAsync(TimeSpan.FromSeconds(90));

        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass('oxygen_readings') IS NOT NULL", connection);
        Assert.True((bool)(await command.ExecuteScalarAsync())!, "the worker did not migrate once the database answered");
    }

    [Fact]
    public async Task A_server_that_answers_and_refuses_stops_the_start()
    {
        // The test server trusts local connections, so the refusal here is a database that does not exist (a wrong
        // password is refused the same way: the server answers, so it is a settings mistake, not an outage).
        await using var cloud = await LocalCloud.StartAsync(postgres);
        var wrong = new NpgsqlConnectionStringBuilder(cloud.ConnectionString) { Database = "no_such_database" }.ConnectionString;

        var error = await Assert.ThrowsAsync<PostgresException>(() => cloud.StartWorkerAsync("ingest-no-database", settings: Stores(wrong)).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(PostgresErrorCodes.InvalidCatalogName, error.SqlState);
    }

    private static Dictionary<string, string?> Stores(string connectionString) => new()
    {
        ["Stores:Cpap"] = connectionString,
        ["Stores:Oxygen"] = connectionString,
        ["Stores:Ecg"] = connectionString,
    };

    /// <summary>Forwards connections from a loopback port to another, as the database appearing on its address.</summary>
    private sealed class TcpForwarder : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        private TcpForwarder(int port) => _listener = new TcpListener(IPAddress.Loopback, port);

        public static TcpForwarder Start(int port, int target)
        {
            var forwarder = new TcpForwarder(port);
            forwarder._listener.Start();
            _ = forwarder.AcceptAsync(target);
            return forwarder;
        }

        private async Task AcceptAsync(int target)
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var server = new TcpClient();
                    await server.ConnectAsync(IPAddress.Loopback, target, _stop.Token);
                    _ = PipeAsync(client, server);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task PipeAsync(TcpClient client, TcpClient server)
        {
            using (client)
            using (server)
            {
                var a = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
                var b = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
                try
                {
                    await Task.WhenAny(a, b);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException)
                {
                    // One side closed.
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
