using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Hosting;

namespace Edge.Hosting;

/// <summary>
/// What every Clinic Edge process (edge-agent, edge-ingest, edge-api, edge-console) does the same way: where its
/// settings come from, and how it ends when they are wrong. Each <c>Program.cs</c> is then one line of its own.
/// </summary>
public static class EdgeProcess
{
    /// <summary>
    /// The settings layers, lowest first: <paramref name="defaults"/> &lt; the JSON file named by the environment
    /// variable <paramref name="configFileVariable"/> (else <paramref name="defaultConfigFile"/>, e.g.
    /// <c>/etc/edge-agent/agent.json</c>; a missing file is no error) &lt; environment variables (<c>Agent__Broker__Port</c>)
    /// &lt; the command line (<paramref name="args"/>; null where the host builder already put it last).
    /// </summary>
    public static ConfigurationManager AddEdgeSettings(
        this ConfigurationManager configuration,
        string configFileVariable,
        string defaultConfigFile,
        string[]? args,
        IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (defaults is not null)
        {
            configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = defaults });
        }

        configuration.AddJsonFile(Environment.GetEnvironmentVariable(configFileVariable) ?? defaultConfigFile, optional: true, reloadOnChange: false);
        configuration.AddEnvironmentVariables();
        if (args is not null)
        {
            configuration.AddCommandLine(args);
        }

        return configuration;
    }

    /// <summary>
    /// Runs <paramref name="host"/> until it stops and returns the exit code: 0, or 78 with one stderr line per bad
    /// setting when its settings fail validation at start (<see cref="ConfigurationExit"/>). Anything else still ends
    /// the process as a crash, which a supervisor restarts.
    /// </summary>
    public static async Task<int> RunAsync(IHost host, string program)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            await host.RunAsync();
        }
        catch (Exception ex) when (ConfigurationExit.TryGetFailures(ex, out var failures))
        {
            return ConfigurationExit.Report(program, failures, Console.Error);
        }

        return 0;
    }
}
