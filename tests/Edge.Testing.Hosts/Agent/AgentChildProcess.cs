using System.Diagnostics;
using System.Text;

namespace Edge.Testing.Agent;

/// <summary>
/// The agent as a separate process (the build output's edge-agent), so tests can kill it with SIGKILL mid-flight
/// and start it again on the same state directory and port.
/// </summary>
public sealed class AgentChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private AgentChildProcess(Process process, StringBuilder output, string socketPath)
    {
        _process = process;
        _output = output;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>The agent's peak resident memory so far, from /proc (VmHWM), in bytes.</summary>
    public long PeakResidentBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<AgentChildProcess> StartAsync(string stateDirectory, int port, params (string Key, string Value)[] settings)
    {
        var agentPath = Path.Combine(AppContext.BaseDirectory, "edge-agent.dll");
        var socketPath = Path.Combine(stateDirectory, "admin.sock");
        var info = new ProcessStartInfo("dotnet", [agentPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = stateDirectory,
        };
        info.Environment["Agent__GatewayId"] = "gw-test";
        info.Environment["Agent__StateDirectory"] = stateDirectory;
        info.Environment["Agent__RuntimeDirectory"] = stateDirectory;
        info.Environment["Agent__Broker__BindAddress"] = "127.0.0.1";
        info.Environment["Agent__Broker__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The TLS listener is on by default; off 8883 so agents of tests running side by side do not collide.
        info.Environment["Agent__Broker__Tls__Port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["EDGE_AGENT_CONFIG"] = Path.Combine(stateDirectory, "agent.json");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new AgentChildProcess(process, output, socketPath);

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
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops the service; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
