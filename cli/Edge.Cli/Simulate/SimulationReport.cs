using Edge.Cli.Terminal;
using Edge.Contracts.Devices;
using MQTTnet.Formatter;

namespace Edge.Cli.Simulate;

/// <summary>What <c>edgectl simulate</c> tells the technician: a start line, progress once a second, a summary, an exit code.</summary>
internal sealed class SimulationReport(LoadGeneratorOptions options, TextWriter output, TextWriter error)
{
    static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    public string Broker { get; } = $"{(options.DeviceCa is null ? "mqtt" : "mqtts")}://{options.Host}:{options.Port}";

    public void WriteStart()
    {
        var pace = options.RatePerDevice > 0 ? $"{options.RatePerDevice:0.###}/s per device" : "as fast as acknowledged";
        var stop = (options.Duration, options.ReadingsPerDevice) switch
        {
            ({ } duration, _) => $"for {DurationText.Format(duration)}",
            (_, { } count) => $"{Units.Count(count)} readings per device",
            _ => "until Ctrl+C",
        };
        // Progress and this line go to stderr so that stdout holds only the summary (one JSON line with --json).
        error.WriteLine($"Simulating {Fleet()} against {Broker} (MQTT {Protocol()}), {pace}, {stop}.");
    }

    /// <summary>Prints a progress line every second until <paramref name="run"/> completes, then returns its result.</summary>
    public async Task<LoadGeneratorResult> FollowAsync(LoadGenerator generator, Task<LoadGeneratorResult> run)
    {
        long lastAcknowledged = 0;
        long lastErrors = 0;
        var lastElapsed = TimeSpan.Zero;
        while (await Task.WhenAny(run, Task.Delay(ProgressInterval, TimeProvider.System)) != run)
        {
            var progress = generator.Progress;
            var interval = (progress.Elapsed - lastElapsed).TotalSeconds;
            var rate = interval > 0 ? (progress.Acknowledged - lastAcknowledged) / interval : 0;
            var line = $"[{progress.Elapsed.TotalSeconds,5:0}s] acked {Units.Count(progress.Acknowledged)} ({rate:0}/s)  " +
                $"refused {Units.Count(progress.Refused)}  reconnects {Units.Count(progress.Reconnects)}  errors {Units.Count(progress.Errors)}";
            if (progress.Errors > lastErrors && progress.LastError is not null)
            {
                line += $"  last error: {progress.LastError}";
            }

            await error.WriteLineAsync(line);
            (lastAcknowledged, lastErrors, lastElapsed) = (progress.Acknowledged, progress.Errors, progress.Elapsed);
        }

        return await run;
    }

    public void WriteSummary(LoadGeneratorResult result)
    {
        output.WriteLine($"Simulated {Fleet()} against {Broker} (MQTT {Protocol()}) for {result.Elapsed.TotalSeconds:0.0} s{(result.Cancelled ? ", stopped by Ctrl+C" : "")}.");
        Line("acknowledged", $"{Units.Count(result.Acknowledged)} ({result.ReadingsPerSecond:0.0} readings/s)");
        Line("refused", $"{Units.Count(result.Refused)}{ByReason(result.RefusedByReason)}");
        Line("unacknowledged", Units.Count(result.Unacknowledged));
        Line("quota backoffs", Units.Count(result.QuotaBackoffs));
        Line("reconnects", Units.Count(result.Reconnects));
        Line("errors", Units.Count(result.Errors));
        if (result.ConnectionsRefusedByReason.Count > 0)
        {
            Line("devices refused", $"{result.ConnectionsRefusedByReason.Values.Sum()}{ByReason(result.ConnectionsRefusedByReason)}");
        }

        Line(
            "latency",
            $"p50 {Units.Milliseconds(result.LatencyP50Milliseconds)}, p99 {Units.Milliseconds(result.LatencyP99Milliseconds)}, max {Units.Milliseconds(result.LatencyMaxMilliseconds)}");
        if (result.LastError is not null)
        {
            Line("last error", result.LastError);
        }
    }

    /// <summary>The exit code, and on failure the one line that says why.</summary>
    public int Verdict(LoadGeneratorResult result)
    {
        if (result.Acknowledged == 0 && result.Refused == 0 && result.DevicesNeverConnected == result.Devices
            && result.ConnectionsRefusedByReason.Count == 0)
        {
            error.WriteLine($"edgectl: cannot reach the broker at {Broker} ({result.LastError ?? "no connection was made"}). Is edge-agent running? Check --host and --port.");
            return ExitCodes.Unreachable;
        }

        if (result.ConnectionsRefusedByReason.Count > 0 || result.Refused > 0 || (result.Unacknowledged > 0 && !result.Cancelled))
        {
            var parts = new List<string>();
            if (result.ConnectionsRefusedByReason.Count > 0)
            {
                parts.Add($"{result.ConnectionsRefusedByReason.Values.Sum()} device(s) refused at connect{ByReason(result.ConnectionsRefusedByReason)}");
            }

            if (result.Refused > 0)
            {
                parts.Add($"{Units.Count(result.Refused)} reading(s) refused{ByReason(result.RefusedByReason)}");
            }

            if (result.Unacknowledged > 0 && !result.Cancelled)
            {
                parts.Add($"{Units.Count(result.Unacknowledged)} reading(s) never acknowledged");
            }

            // The agent keeps what it refused as dead letters; unacknowledged readings never got that far.
            var hint = result.Refused > 0 ? " See edgectl deadletters list." : "";
            error.WriteLine($"edgectl: the run finished in part: {string.Join("; ", parts)}.{hint}");
            return ExitCodes.Refused;
        }

        return ExitCodes.Ok;
    }

    string Fleet()
    {
        var byKind = options.Devices.GroupBy(d => d.Kind).OrderBy(g => g.Key).Select(g => $"{DeviceKinds.Name(g.Key)} {g.Count()}");
        return $"{options.Devices.Count} device{(options.Devices.Count == 1 ? "" : "s")} ({string.Join(", ", byKind)})";
    }

    string Protocol() => options.ProtocolVersion == MqttProtocolVersion.V311 ? "3.1.1" : "5";

    static string ByReason<TKey, TValue>(IReadOnlyDictionary<TKey, TValue> counts)
        where TKey : notnull => counts.Count == 0 ? "" : $" ({string.Join(", ", counts.Select(pair => $"{pair.Key} {pair.Value}"))})";

    void Line(string label, string value) => output.WriteLine($"  {label,-16}{value}");
}
