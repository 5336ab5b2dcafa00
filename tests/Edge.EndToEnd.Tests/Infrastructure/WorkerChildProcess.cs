using System.Diagnostics;
using System.Globalization;
using System.Text;
using Edge.Testing.Mqtt;

namespace Edge.EndToEnd.Tests.Infrastructure;

/// <summary>The ingest worker as its own process (the build output's edge-ingest), so a test can SIGKILL it.</summary>
internal sealed class WorkerChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerChildProcess(Process process) => _process = process;

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

    /// <param name="settings">More settings (configuration keys with ':'), e.g. a <c>MetricsEndpoint</c>'s.</param>
    public static WorkerChildProcess Start(LocalCloud cloud, string clientId, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var (certificate, key) = cloud.Broker.IssueWorker();
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-ingest.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Ingest__Broker__Host"] = "localhost";
        info.Environment["Ingest__Broker__Port"] = cloud.Broker.WorkerPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Ingest__Broker__CaPath"] = cloud.Broker.Ca.CaPath;
        info.Environment["Ingest__Broker__CertificatePath"] = certificate;
        info.Environment["Ingest__Broker__KeyPath"] = key;
        info.Environment["Ingest__Broker__ClientId"] = clientId;
        info.Environment["Stores__Cpap"] = cloud.ConnectionString;
        info.Environment["Stores__Oxygen"] = cloud.ConnectionString;
        info.Environment["Stores__Ecg"] = cloud.ConnectionString;
        info.Environment["EDGE_INGEST_CONFIG"] = "/nonexistent/ingest.json";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            info.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var worker = new WorkerChildProcess(Process.Start(info)!);
        worker._process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: no shutdown, exactly like a crashed or evicted container.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
