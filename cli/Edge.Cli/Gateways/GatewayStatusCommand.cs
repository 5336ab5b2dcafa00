using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Agent;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.Gateways;

/// <summary>
/// <c>edgectl gateway status [--watch]</c>: the agent's status (the same view as <c>agent status</c>), and in watch mode
/// a refreshing screen with a progress bar while a backlog drains to the cloud.
/// </summary>
internal static class GatewayStatusCommand
{
    const int BarWidth = 30;

    public static Command Create(Option<string> socket, TimeProvider time)
    {
        var watch = new Option<bool>("--watch") { Description = "Refresh until Ctrl+C, with a progress bar while the backlog drains." };
        var interval = CliOptions.OptionalDuration("--interval", "Time between refreshes in watch mode (default 2s).", TimeSpan.FromMilliseconds(200), TimeSpan.FromHours(1));
        var untilDrained = new Option<bool>("--until-drained") { Description = "In watch mode, stop (exit 0) once nothing waits to be synced." };
        var json = new Option<bool>("--json") { Description = "Print the agent's status as JSON: one line, or one line per refresh in watch mode." };
        var command = new Command(
            "status",
            "Show the gateway's uplink state, journal depth per lane, oldest unsynced reading, drain ETA, sheds and devices online.\n" +
            "Example: edgectl gateway status --watch")
        {
            watch,
            interval,
            untilDrained,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var output = parseResult.InvocationConfiguration.Output;
            var asJson = parseResult.GetValue(json);
            if (!parseResult.GetValue(watch))
            {
                Write(output, await client.GetStatusAsync(cancellationToken), asJson, progress: null);
                return ExitCodes.Ok;
            }

            var delay = parseResult.GetValue(interval) ?? TimeSpan.FromSeconds(2);
            // Only clear the screen on a terminal; a redirected watch appends frames, which a log wants.
            var clear = !asJson && !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
            long largestBacklog = 0;
            try
            {
                while (true)
                {
                    var status = await client.GetStatusAsync(cancellationToken);
                    largestBacklog = Math.Max(largestBacklog, status.Uplink.BacklogReadings);
                    if (clear)
                    {
                        await output.WriteAsync("\x1b[H\x1b[2J");
                    }

                    Write(output, status, asJson, Progress(status.Uplink, largestBacklog));
                    if (!asJson)
                    {
                        await output.WriteLineAsync($"(refreshing every {DurationText.Format(delay)}, Ctrl+C to stop; {Units.Utc(time.GetUtcNow())})");
                    }

                    await output.FlushAsync(cancellationToken);
                    if (parseResult.GetValue(untilDrained) && status.Uplink.BacklogReadings == 0)
                    {
                        return ExitCodes.Ok;
                    }

                    await Task.Delay(delay, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C is how a watch ends.
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    static void Write(TextWriter output, AgentStatus status, bool json, string? progress)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(status, AdminJsonContext.Default.AgentStatus));
            return;
        }

        StatusView.Write(status, output);
        if (progress is not null)
        {
            output.WriteLine();
            output.WriteLine($"{"Draining",-14}{progress}");
        }
    }

    /// <summary>How much of the largest backlog seen in this watch has reached the cloud: a bar, a share and the ETA.</summary>
    internal static string Progress(UplinkStatus uplink, long largestBacklog)
    {
        if (largestBacklog == 0)
        {
            return "nothing to sync";
        }

        var done = Math.Clamp((double)(largestBacklog - uplink.BacklogReadings) / largestBacklog, 0, 1);
        var filled = (int)Math.Round(done * BarWidth);
        var eta = uplink.DrainEtaSeconds is { } seconds ? $", done in about {DurationText.Age(TimeSpan.FromSeconds(seconds))}"
            : uplink.Connected ? "" : ", waiting for the uplink";
        return string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {done * 100:0}% ({Units.Count(uplink.BacklogReadings)} of {Units.Count(largestBacklog)} readings left{eta})");
    }
}
