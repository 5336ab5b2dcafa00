using System.Globalization;
using Edge.Benchmarks.Processes;
using Edge.Cli;
using Edge.Cli.Admin;
using Edge.Contracts.Admin;
using Edge.Testing;
using Edge.Testing.Mqtt;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// The agent as a child process with its uplink to the cloud broker, devices on its TLS listener only, and the same
/// state directory and ports across a kill -9 and restart. Each start writes its own log (agent-N.log).
/// </summary>
internal sealed class SoakAgent : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;
    private AgentAdminClient _admin;

    private SoakAgent(string state, int tlsPort, Dictionary<string, string> environment, ChildProcess process)
    {
        StateDirectory = state;
        TlsPort = tlsPort;
        _environment = environment;
        Process = process;
        _admin = new AgentAdminClient(SocketPath);
    }

    public string StateDirectory { get; }

    public int TlsPort { get; }

    public ChildProcess Process { get; private set; }

    /// <summary>Starts so far (1 + restarts).</summary>
    public int Starts { get; private set; } = 1;

    public AgentAdminClient Admin => _admin;

    private string SocketPath => Path.Combine(StateDirectory, "admin.sock");

    public static async Task<SoakAgent> StartAsync(string state, string gatewayId, MosquittoServer broker)
    {
        Directory.CreateDirectory(state);
        var (certificate, key) = broker.IssueGateway(gatewayId);
        var tlsPort = FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["Agent__GatewayId"] = gatewayId,
            ["Agent__StateDirectory"] = state,
            ["Agent__RuntimeDirectory"] = state,
            ["Agent__Broker__BindAddress"] = "127.0.0.1",
            // TLS only (the plain listener is off by default), as a clinic runs it.
            ["Agent__Broker__Tls__Port"] = tlsPort.ToString(CultureInfo.InvariantCulture),
            // Every simulated device connects from 127.0.0.1; a clinic's devices each have their own address.
            ["Agent__Broker__MaxConnectionsPerAddress"] = "10000",
            ["Agent__Broker__MaxClients"] = "10000",
            ["Agent__Uplink__Host"] = "localhost",
            ["Agent__Uplink__Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Agent__Uplink__CaPath"] = broker.Ca.CaPath,
            ["Agent__Uplink__CertificatePath"] = certificate,
            ["Agent__Uplink__KeyPath"] = key,
            ["EDGE_AGENT_CONFIG"] = Path.Combine(state, "none.json"),
            ["Logging__LogLevel__Default"] = "Warning",
            // As the shipped systemd unit runs it (installers/linux/edge-agent.service): two malloc arenas.
            ["MALLOC_ARENA_MAX"] = "2",
        };
        var agent = new SoakAgent(state, tlsPort, environment, Launch(environment, state, 1));
        await agent.WaitReadyAsync();
        return agent;
    }

    /// <summary>SIGKILL, then the same agent (state, ports, settings) started again and answering on its socket.</summary>
    public async Task KillAndRestartAsync()
    {
        await Process.KillAsync();
        await Process.DisposeAsync();
        Starts++;
        Process = Launch(_environment, StateDirectory, Starts);
        // A new client: the old one's pooled connection went with the killed process.
        _admin.Dispose();
        _admin = new AgentAdminClient(SocketPath);
        await WaitReadyAsync();
    }

    public Task<AgentStatus> StatusAsync() => _admin.GetStatusAsync(CancellationToken.None);

    /// <summary>The status, or null while the agent is not answering (restarting).</summary>
    public async Task<AgentStatus?> TryStatusAsync()
    {
        try
        {
            return await StatusAsync();
        }
        catch (EdgectlException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await Process.DisposeAsync();
    }

    private static ChildProcess Launch(Dictionary<string, string> environment, string state, int start) =>
        BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")], environment,
            Path.Combine(state, $"agent-{start}.log"));

    private Task WaitReadyAsync() => BenchAgent.WaitAsync(async () => await TryStatusAsync() is not null, "the agent's admin socket");
}
