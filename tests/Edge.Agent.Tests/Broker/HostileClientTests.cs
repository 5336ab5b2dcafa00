using System.Net;
using System.Net.Sockets;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;

namespace Edge.Agent.Tests.Broker;

/// <summary>
/// Hostile clients on the clinic LAN against a real agent process: oversized packets before authentication, sockets
/// that never send CONNECT, connection floods from one address. Real devices must keep getting PUBACKs throughout.
/// </summary>
public sealed class HostileClientTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string Serial = "OXY-8844-5521";

    // 10 = CONNECT, then the largest remaining length MQTT can express: 268,435,455 bytes (256 MiB).
    private static readonly byte[] HugeConnectHeader = [0x10, 0xFF, 0xFF, 0xFF, 0x7F];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Twenty_connections_announcing_256_MiB_connects_cost_no_memory_and_devices_keep_publishing()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port);
        using var admin = AdminHttp.Create(agent.SocketPath);
        await using var device = await TestDevice.ConnectAsync(port, Serial, await admin.AddDeviceAsync(Serial));
        var baseline = agent.PeakResidentBytes;

        // Each attacker sends as much of its 40 MB as the agent takes, then stalls with the socket open.
        var attackers = Enumerable.Range(0, 20).Select(_ => FloodAsync(port, 40_000_000)).ToArray();
        var publishes = 0;
        var reading = Seed.Start;
        while (!attackers.All(a => a.IsCompleted))
        {
            reading = reading.AddSeconds(1);
            Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", Seed.Oxygen(Serial, reading))).IsSuccess);
            publishes++;
        }
        var sent = await Task.WhenAll(attackers);

        Assert.All(sent, bytes => Assert.True(bytes < 40_000_000, $"an attacker sent all {bytes} bytes: the agent read its announced CONNECT"));
        Assert.True(publishes > 0);
        var peak = agent.PeakResidentBytes;
        output.WriteLine($"agent peak RSS {peak / 1024 / 1024} MiB (before the attack {baseline / 1024 / 1024} MiB); attackers sent {sent.Min()}-{sent.Max()} bytes each; {publishes} device publishes meanwhile");
        Assert.True(peak < 250L * 1024 * 1024, $"agent peak RSS {peak / 1024 / 1024} MiB (before the attack {baseline / 1024 / 1024} MiB)");
        // Counted once the listener has seen each connection end, which can be a moment after the attacker did.
        await Eventually.TrueAsync(
            async () => (await admin.GetStringAsync("/v1/metrics")).Contains("edge_broker_connections_closed_total{reason=\"packet_too_large\"} 20", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the 20 oversized CONNECTs to be counted");
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", Seed.Oxygen(Serial, reading.AddSeconds(1)))).IsSuccess);
    }

    [Fact]
    public async Task A_socket_that_sends_no_connect_is_closed_at_the_deadline_and_counted()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port, ("Agent__Broker__ConnectTimeoutSeconds", "1"));
        using var admin = AdminHttp.Create(agent.SocketPath);

        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, port);

        Assert.True(await ClosedByAgentAsync(silent));
        await Eventually.TrueAsync(
            async () => (await admin.GetStringAsync("/v1/metrics")).Contains("edge_broker_connections_closed_total{reason=\"connect_timeout\"} 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the closed socket to be counted");
    }

    [Fact]
    public async Task Sockets_from_one_address_beyond_its_share_are_closed_at_once_and_the_device_connects_when_they_go()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port,
            ("Agent__Broker__MaxConnectionsPerAddress", "3"), ("Agent__Broker__ConnectTimeoutSeconds", "120"));
        using var admin = AdminHttp.Create(agent.SocketPath);
        var secret = await admin.AddDeviceAsync(Serial);

        var held = new List<TcpClient>();
        for (var i = 0; i < 4; i++)
        {
            var socket = new TcpClient();
            await socket.ConnectAsync(IPAddress.Loopback, port);
            held.Add(socket);
        }

        // The agent admits sockets in whatever order it gets to them: one of the four, whichever, is closed at once.
        var closed = await Task.WhenAny(held.Select(ClosedByAgentAsync));
        Assert.True(await closed);
        Assert.Contains("edge_broker_connections_closed_total{reason=\"too_many_from_address\"} 1", await admin.GetStringAsync("/v1/metrics"), StringComparison.Ordinal);
        foreach (var socket in held)
        {
            socket.Dispose();
        }
        await Eventually.TrueAsync(async () =>
        {
            var (connected, _, _) = await TestDevice.TryConnectAsync(port, Serial, secret);
            if (connected is null)
            {
                return false;
            }
            await connected.DisposeAsync();
            return true;
        }, TimeSpan.FromSeconds(30), "the device to connect once the held sockets are gone");
    }

    // True once the agent has closed the socket (end of stream or reset); false if it is still open after 30 s.
    private static async Task<bool> ClosedByAgentAsync(TcpClient client)
    {
        try
        {
            return await client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) == 0;
        }
        catch (IOException)
        {
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or ObjectDisposedException)
        {
            return false;
        }
    }

    // Connects, announces a 256 MiB CONNECT and writes zeros until the agent closes the connection or the budget is
    // spent; returns the bytes written. Then holds the socket open until the agent closes it.
    private static async Task<long> FloodAsync(int port, long budget)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var chunk = new byte[64 * 1024];
        long sent = 0;
        try
        {
            await stream.WriteAsync(HugeConnectHeader);
            while (sent < budget)
            {
                await stream.WriteAsync(chunk);
                sent += chunk.Length;
            }

            // The whole budget went out: stall, as an attacker would, until the agent gives up on the socket.
            await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (IOException)
        {
            // The agent closed the connection.
        }
        catch (TimeoutException)
        {
            // The agent never closed it.
        }

        return sent;
    }
}
