using System.CommandLine;
using System.Text;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Files;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.Agent;

/// <summary><c>edgectl agent …</c>: inspect the local edge agent and manage its device credentials.</summary>
internal static class AgentCommand
{
    public static Command Create(Option<string> socket) => new(
        "agent",
        "Inspect the local edge agent and manage device credentials.\nExample: edgectl agent status")
    {
        CreateStatus(socket),
        CreateMetrics(socket),
        DeviceCaCommand.Create(socket),
        DeviceCommand.Create(socket),
    };

    static Command CreateMetrics(Option<string> socket)
    {
        var output = new Option<FileInfo>("--output")
        {
            Description = "Write them to this file instead (replaced atomically, mode 0644), e.g. for node_exporter's textfile collector.",
        };
        var command = new Command(
            "metrics",
            "Print the agent's metrics in the Prometheus text format: ingest, journal, uplink, GC and CPU.\n" +
            "Example: edgectl agent metrics --output /var/lib/prometheus/node-exporter/edge-agent.prom")
        {
            output,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var text = await client.GetMetricsTextAsync(cancellationToken);
            if (parseResult.GetValue(output) is { } file)
            {
                WriteMetricsFile(file.FullName, text);
            }
            else
            {
                await parseResult.InvocationConfiguration.Output.WriteAsync(text);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    // Replaced in one rename, so a collector reading the directory never sees half a file; readable by all, because
    // the collector runs as its own user and the metrics hold no secret.
    static void WriteMetricsFile(string path, string text)
    {
        try
        {
            PrivateFiles.WriteAtomically(path, Encoding.UTF8.GetBytes(text), PrivateFiles.Readable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EdgectlException($"cannot write the metrics to {path}: {ex.Message}", ExitCodes.Failed, ex);
        }
    }

    static Command CreateStatus(Option<string> socket)
    {
        var json = new Option<bool>("--json") { Description = "Print the agent's status as JSON (one line)." };
        var command = new Command(
            "status",
            "Show what the agent is doing: uptime, connected devices, journal depth and quota, ingest counters.\n" +
            "Example: edgectl agent status --json")
        {
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var status = await client.GetStatusAsync(cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(status, AdminJsonContext.Default.AgentStatus));
            }
            else
            {
                StatusView.Write(status, output);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
