using System.Globalization;
using Edge.Cli;
using Edge.Cli.Admin;
using Edge.Cli.Simulate;
using Edge.Testing;

namespace Edge.Benchmarks.Processes;

/// <summary>
/// The build output's agent started as a child process on a free loopback port with its own state directory,
/// devices provisioned through its admin socket. Disposing stops it (SIGTERM) and deletes the state.
/// </summary>
internal sealed class BenchAgent : IAsyncDisposable
{
    private BenchAgent(string state, int port, ChildProcess process, AgentAdminClient admin, IReadOnlyList<SimulatedDevice> devices)
    {
        StateDirectory = state;
        Port = port;
        Process = process;
        Admin = admin;
        Devices = devices;
    }

    /// <summary>The agent's own state directory (journal, credentials); deleted on dispose.</summary>
    public string StateDirectory { get; }

    public int Port { get; }

    public ChildProcess Process { get; }

    public AgentAdminClient Admin { get; }

    /// <summary>The provisioned devices with their secrets.</summary>
    public IReadOnlyList<SimulatedDevice> Devices { get; }

    public static async Task<BenchAgent> StartAsync(IReadOnlyList<string> serials, IReadOnlyDictionary<string, string>? settings = null)
    {
        var state = Directory.CreateTempSubdirectory("edge-bench-agent-").FullName;
        var port = FreePort.Next();
        var environment = AgentEnvironment(state, port);
        environment["Agent__Broker__MaxClients"] = "10000";
        // Every simulated device connects from 127.0.0.1; a clinic's devices each have their own address.
        environment["Agent__Broker__MaxConnectionsPerAddress"] = "10000";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")], environment, Path.Combine(state, "agent.log"));
        var admin = new AgentAdminClient(Path.Combine(state, "admin.sock"));
        try
        {
            await WaitAsync(async () =>
            {
                try
                {
                    await admin.GetStatusAsync(CancellationToken.None);
                    return true;
                }
                catch (EdgectlException)
                {
                    return false;
                }
            }, "the agent's admin socket");
            var devices = await SimulatedCredentials.ProvisionAsync(admin, serials, CancellationToken.None);
            return new BenchAgent(state, port, process, admin, devices);
        }
        catch
        {
            // An agent that never became ready is stopped too, not left running behind a failed benchmark.
            admin.Dispose();
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The settings every benchmark's agent runs with: its own state and runtime directory, the broker on a loopback
    /// port, no configuration file, warnings only. A benchmark adds its own on top.
    /// </summary>
    public static Dictionary<string, string> AgentEnvironment(string state, int port) => new()
    {
        ["Agent__GatewayId"] = "gw-bench",
        ["Agent__StateDirectory"] = state,
        ["Agent__RuntimeDirectory"] = state,
        ["Agent__Broker__BindAddress"] = "127.0.0.1",
        // The simulated devices use plain MQTT (measured against earlier runs); the TLS listener off 8883 so runs do not collide.
        ["Agent__Broker__Port"] = port.ToString(CultureInfo.InvariantCulture),
        ["Agent__Broker__Tls__Port"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["EDGE_AGENT_CONFIG"] = Path.Combine(state, "none.json"),
        ["Logging__LogLevel__Default"] = "Warning",
    };

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Process.DisposeAsync();
        Directory.Delete(StateDirectory, recursive: true);
    }

    public static async Task WaitAsync(Func<Task<bool>> ready, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await ready())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }
}
