using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;

namespace Edge.Cli.CloudLedger;

/// <summary>
/// <c>requeue</c> for either ledger (dead letters, rejected readings): one POST per id, then the answers as a JSON array
/// or a line each. The two differ only in the id's type, the path and how an answer is named.
/// </summary>
internal static class LedgerRequeueCommand
{
    /// <param name="api">The --api option of the command tree.</param>
    /// <param name="description">The command's help text.</param>
    /// <param name="idDescription">The id argument's help text.</param>
    /// <param name="what">What one row is called, for errors: "dead letter", "rejected reading".</param>
    /// <param name="path">The API path of one row's requeue.</param>
    /// <param name="answerType">The JSON of one answer.</param>
    /// <param name="answersType">The JSON of the answers as an array (--json).</param>
    /// <param name="describe">The line printed for one answer.</param>
    /// <param name="listCommand">The list command the stored rows leave, for the closing line.</param>
    public static Command Create<TId, TAnswer>(
        Option<string?> api,
        string description,
        string idDescription,
        string what,
        Func<TId, string> path,
        JsonTypeInfo<TAnswer> answerType,
        JsonTypeInfo<TAnswer[]> answersType,
        Func<TAnswer, string> describe,
        string listCommand)
    {
        var ids = new Argument<TId[]>("id") { Description = idDescription, Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the API's answers (each with its requeue state) as a JSON array." };
        var command = new Command("requeue", description)
        {
            ids,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var answers = new List<TAnswer>();
            foreach (var value in parseResult.GetRequiredValue(ids))
            {
                answers.Add(await client.PostAsync(path(value), answerType, $"requeue {what} {value}", cancellationToken));
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(answers.ToArray(), answersType));
                return ExitCodes.Ok;
            }
            foreach (var answer in answers)
            {
                await output.WriteLineAsync(describe(answer));
            }
            await output.WriteLineAsync($"A worker tries each within seconds; stored ones leave '{listCommand}'.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
