using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace Edge.Cli.Terminal;

/// <summary>Reports command-line mistakes as short lines plus a pointer to --help, instead of the whole help text.</summary>
internal static class UsageErrors
{
    public static bool IsUsageError(ParseResult parseResult) => parseResult.Action is ParseErrorAction;

    public static void Write(ParseResult parseResult, TextWriter error)
    {
        foreach (var parseError in parseResult.Errors)
        {
            error.WriteLine($"edgectl: {parseError.Message}");
        }

        error.WriteLine($"Run '{CommandPath(parseResult.CommandResult)} --help' for usage.");
    }

    static string CommandPath(CommandResult commandResult)
    {
        var names = new List<string>();
        for (SymbolResult? result = commandResult; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                // The root's name is the host executable (dotnet, testhost); the tool is always edgectl.
                names.Add(command.Parent is null ? "edgectl" : command.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
