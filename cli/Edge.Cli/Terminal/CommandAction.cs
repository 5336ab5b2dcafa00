using System.CommandLine;

namespace Edge.Cli.Terminal;

/// <summary>Runs a command's body so that every failure ends as one line on stderr and a documented exit code.</summary>
internal static class CommandAction
{
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await body(parseResult, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync("edgectl: interrupted.");
                return ExitCodes.Interrupted;
            }
            catch (EdgectlException ex)
            {
                await error.WriteLineAsync($"edgectl: {ex.Message}");
                return ex.ExitCode;
            }
            catch (Exception ex)
            {
                // A technician needs the what, not the where: no stack trace, but the type names the kind of failure.
                await error.WriteLineAsync($"edgectl: unexpected error ({ex.GetType().Name}): {ex.Message}");
                return ExitCodes.Failed;
            }
        });
    }
}
