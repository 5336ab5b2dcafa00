using System.Globalization;
using Edge.Testing;

namespace Edge.Testing.Agent;

/// <summary>
/// The agent as a separate process (the build output's edge-agent), so tests can kill it with SIGKILL mid-flight
/// and start it again on the same state directory and port.
/// </summary>
public sealed class AgentChildProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private AgentChildProcess(ChildProcess process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>The agent's peak resident memory so far, from /proc (VmHWM), in bytes.</summary>
    public long PeakResidentBytes => _process.PeakResidentBytes();

    public string Output => _process.Output;

    public static async Task<AgentChildProcess> StartAsync(string stateDirectory, int port, params (string Key, string Value)[] settings)
    {
        var socketPath = Path.Combine(stateDirectory, "admin.sock");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Agent__GatewayId"] = "gw-test",
            ["Agent__StateDirectory"] = stateDirectory,
            ["Agent__RuntimeDirectory"] = stateDirectory,
            ["Agent__Broker__BindAddress"] = "127.0.0.1",
            ["Agent__Broker__Port"] = port.ToString(CultureInfo.InvariantCulture),
            // The TLS listener is on by default; off 8883 so agents of tests running side by side do not collide.
            ["Agent__Broker__Tls__Port"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["EDGE_AGENT_CONFIG"] = Path.Combine(stateDirectory, "agent.json"),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var process = ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")], environment, workingDirectory: stateDirectory);
        var child = new AgentChildProcess(process, socketPath);

        using var admin = AdminHttp.Create(socketPath);
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"edge-agent exited with {process.ExitCode}:\n{child.Output}");
                }

                try
                {
                    await admin.StatusAsync();
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "edge-agent to answer on its admin socket");
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>SIGTERM, as systemd stops the service; returns the exit code (SIGKILL after 30 s, so a hang shows as 137).</summary>
    public Task<int> StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
