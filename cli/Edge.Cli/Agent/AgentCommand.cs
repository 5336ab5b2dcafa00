using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Admin;
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
        DeviceCommand.Create(socket),
    };

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
