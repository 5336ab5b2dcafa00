using System.CommandLine;
using Edge.Cli.Admin;
using Edge.Cli.Agent;
using Edge.Cli.Cloud;
using Edge.Cli.CloudLedger;
using Edge.Cli.Completion;
using Edge.Cli.Configs;
using Edge.Cli.DeadLetters;
using Edge.Cli.Devices;
using Edge.Cli.Firmware;
using Edge.Cli.Gateways;
using Edge.Cli.Login;
using Edge.Cli.Quarantine;
using Edge.Cli.Simulate;
using Edge.Cli.Telemetry;
using Edge.Cli.Terminal;

namespace Edge.Cli;

/// <summary>Builds the edgectl command tree and runs it; Program and the tests both go through here.</summary>
internal static class Edgectl
{
    public static RootCommand CreateRootCommand(TimeProvider? time = null)
    {
        // The one clock of edgectl: tests pass a fake one; no command reads the static DateTime.UtcNow (banned).
        time ??= TimeProvider.System;
        var socket = AgentSocketOption.Create();
        var api = ApiOption.Create();
        return new RootCommand(
            "edgectl: the Clinic Edge technician's command line.\n" +
            "Example: edgectl agent status")
        {
            socket,
            api,
            LoginCommand.CreateLogin(api, time),
            LoginCommand.CreateLogout(),
            GatewayCommand.Create(api, socket, time),
            DevicesCommand.Create(api, socket),
            TelemetryCommand.Create(api),
            ConfigCommand.Create(api, socket, time),
            FirmwareCommand.Create(api),
            QuarantineCommand.Create(api),
            CloudCommand.Create(api, time),
            AgentCommand.Create(socket),
            DeadLettersCommand.Create(socket),
            SimulateCommand.Create(socket),
            CompletionCommand.Create(),
        };
    }

    /// <summary>
    /// Parses and runs one command line, writing only to the given writers. <c>handleTermination</c> is true in the
    /// real process only: Ctrl+C then cancels the command instead of killing it.
    /// </summary>
    public static async Task<int> InvokeAsync(
        RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, bool handleTermination, CancellationToken cancellationToken)
    {
        var parseResult = root.Parse(args);

        // System.CommandLine reports usage errors with exit code 1 and the whole help text;
        // edgectl promises 2 and one line per problem, so it handles them itself.
        if (UsageErrors.IsUsageError(parseResult))
        {
            UsageErrors.Write(parseResult, error);
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Every action catches its own failures (CommandAction); the default handler would print a stack trace.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = handleTermination ? TimeSpan.FromSeconds(10) : null,
        };
        return await parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
