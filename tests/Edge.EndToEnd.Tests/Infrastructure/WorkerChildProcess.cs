using System.Globalization;
using Edge.Testing;
using Edge.Testing.Mqtt;

namespace Edge.EndToEnd.Tests.Infrastructure;

/// <summary>The ingest worker as its own process (the build output's edge-ingest), so a test can SIGKILL it.</summary>
internal sealed class WorkerChildProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private WorkerChildProcess(ChildProcess process) => _process = process;

    public string Output => _process.Output;

    /// <param name="settings">More settings (configuration keys with ':'), e.g. a <c>MetricsEndpoint</c>'s.</param>
    public static WorkerChildProcess Start(LocalCloud cloud, string clientId, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var (certificate, key) = cloud.Broker.IssueWorker();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Ingest__Broker__Host"] = "localhost",
            ["Ingest__Broker__Port"] = cloud.Broker.WorkerPort.ToString(CultureInfo.InvariantCulture),
            ["Ingest__Broker__CaPath"] = cloud.Broker.Ca.CaPath,
            ["Ingest__Broker__CertificatePath"] = certificate,
            ["Ingest__Broker__KeyPath"] = key,
            ["Ingest__Broker__ClientId"] = clientId,
            ["Stores__Cpap"] = cloud.ConnectionString,
            ["Stores__Oxygen"] = cloud.ConnectionString,
            ["Stores__Ecg"] = cloud.ConnectionString,
            ["EDGE_INGEST_CONFIG"] = "/nonexistent/ingest.json",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var unset = new List<string>();
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            var variable = name.Replace(":", "__", StringComparison.Ordinal);
            if (value is null)
            {
                environment.Remove(variable);
                unset.Add(variable);
            }
            else
            {
                environment[variable] = value;
            }
        }

        return new WorkerChildProcess(ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-ingest.dll")], environment, unset: unset));
    }

    /// <summary>SIGKILL: no shutdown, exactly like a crashed or evicted container.</summary>
    public Task KillAsync() => _process.KillAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
