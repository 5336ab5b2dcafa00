using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.DeadLetters;

/// <summary><c>edgectl deadletters list</c>: messages the agent refused, kept for a technician to inspect.</summary>
internal static class DeadLettersCommand
{
    public static Command Create(Option<string> socket) => new(
        "deadletters",
        "Inspect messages THIS GATEWAY's agent refused (invalid payloads, wrong topics, unknown devices).\n" +
        "What the cloud could not store is 'edgectl cloud dead-letters' and 'edgectl cloud rejected'.\nExample: edgectl deadletters list --limit 50")
    {
        CreateList(socket),
    };

    static Command CreateList(Option<string> socket)
    {
        var limit = CliOptions.Int32("--limit", "How many to show, newest first.", defaultValue: 20, min: 1, max: 1000);
        var json = new Option<bool>("--json") { Description = "Print the dead letters as a JSON array." };
        var command = new Command(
            "list",
            "List the newest dead letters: time, client, topic, reason code and reason.\nExample: edgectl deadletters list --limit 50 --json")
        {
            limit,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var letters = await client.ListDeadLettersAsync(parseResult.GetValue(limit), cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(letters.ToArray(), AdminJsonContext.Default.DeadLetterInfoArray));
                return ExitCodes.Ok;
            }

            if (letters.Count == 0)
            {
                await output.WriteLineAsync("No dead letters.");
                return ExitCodes.Ok;
            }

            var table = new TextTable("TIME", "CLIENT", "TOPIC", "CODE", "REASON");
            foreach (var letter in letters)
            {
                table.Add(Units.Utc(letter.ReceivedAt), letter.ClientId, letter.Topic, letter.ReasonCode, letter.Reason);
            }

            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }
}
