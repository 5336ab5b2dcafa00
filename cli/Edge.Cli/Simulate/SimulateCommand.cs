using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Terminal;
using MQTTnet.Formatter;

namespace Edge.Cli.Simulate;

/// <summary><c>edgectl simulate</c>: a fleet of simulated devices publishing telemetry to a broker, with a summary at the end.</summary>
internal static class SimulateCommand
{
    public static Command Create(Option<string> socket)
    {
        var host = new Option<string>("--host") { Description = "Broker host.", DefaultValueFactory = _ => "127.0.0.1" };
        host.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--host: give the broker's host name or address.");
            }
        });
        var port = CliOptions.Int32("--port", "Broker port: the agent's TLS listener (1883 with --plain).", defaultValue: 8883, min: 1, max: 65535);
        var ca = new Option<string>("--ca")
        {
            Description = "PEM file of the CA the broker's certificate must chain to (edgectl agent device-ca --output FILE). " +
                "Default with --socket: the agent's device CA, read through the socket.",
            HelpName = "file",
        };
        var plain = new Option<bool>("--plain")
        {
            Description = "Connect without TLS, to a plain MQTT listener (Agent:Broker:Port, for devices that cannot do TLS).",
        };
        var devices = CliOptions.Int32("--devices", "Number of simulated devices, one connection each.", defaultValue: 1, min: 1, max: SerialPlan.MaxDevices);
        var rate = CliOptions.Double(
            "--rate",
            "Readings per second per device; 0 sends as fast as acknowledgements allow.",
            defaultValue: 1,
            min: 0,
            max: LoadGeneratorOptions.MaxRatePerDevice,
            check: value => value is > 0 and < LoadGeneratorOptions.MinRatePerDevice
                ? $"--rate must be 0 or at least {LoadGeneratorOptions.MinRatePerDevice} (got {value})."
                : null);
        var kinds = new Option<string>("--kinds")
        {
            Description = $"Device kinds, comma-separated, assigned round-robin: {KindList.Names}.",
            HelpName = "list",
            DefaultValueFactory = _ => KindList.Default,
        };
        kinds.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>() ?? "";
            if (!KindList.TryParse(value, out _, out var unknown))
            {
                result.AddError(unknown is null
                    ? $"--kinds: give at least one kind ({KindList.Names})."
                    : $"--kinds: unknown kind '{unknown}' (use {KindList.Names}).");
            }
        });
        var duration = CliOptions.OptionalDuration(
            "--duration", "Stop after this long (e.g. 30s, 5m). Without --duration or --count: until Ctrl+C.", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(365));
        var count = CliOptions.OptionalInt64("--count", "Readings per device, then stop.", min: 1, max: long.MaxValue);
        var credentials = new Option<string>("--credentials")
        {
            Description = "JSON file of device secrets, {\"SERIAL\": \"secret\", ...}, instead of provisioning through --socket.",
            HelpName = "file",
        };
        var anonymous = new Option<bool>("--anonymous") { Description = "Connect without credentials (a broker that allows anonymous clients)." };
        var serialBase = CliOptions.Int32(
            "--serial-base", "Middle block of the generated serials: CPAP-<base>-0001, OXY-<base>-0002, ...", defaultValue: 9000, min: 0, max: SerialPlan.MaxSerialBase);
        // No DefaultValueFactory on these two: help would show the default as "V500" and "00:00:10".
        var protocol = new Option<MqttProtocolVersion?>("--protocol")
        {
            Description = "MQTT protocol version: 5 or 311 (default 5).",
            HelpName = "5|311",
            CustomParser = ParseProtocol,
        };
        var alarmRatio = CliOptions.Double("--alarm-ratio", "Share of readings that carry an alarm, 0 to 1.", defaultValue: 0.03, min: 0, max: 1);
        var seed = CliOptions.Int32("--seed", "Seed of the readings' random walks (same seed, same values).", defaultValue: 1, min: int.MinValue, max: int.MaxValue);
        var publishTimeout = CliOptions.OptionalDuration(
            "--publish-timeout", "Wait this long for a PUBACK before reconnecting and re-sending (default 10s).", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON line (progress still goes to stderr)." };

        var command = new Command(
            "simulate",
            "Simulate CPAP/BiPAP, oxygen and ECG devices publishing telemetry (QoS 1, at-least-once) and report throughput and latency.\n" +
            "Example: edgectl simulate --devices 20 --rate 2 --duration 60s")
        {
            host, port, ca, plain, devices, rate, kinds, duration, count, credentials, anonymous, serialBase, protocol, alarmRatio, seed, publishTimeout, json,
        };

        // Runs before defaults are filled in: an option that was not typed has no result here.
        command.Validators.Add(result =>
        {
            if (IsGiven(result, duration) && IsGiven(result, count))
            {
                result.AddError("--duration and --count cannot be used together: stop after a time or after a number of readings.");
            }

            var credentialSources = new[] { (socket, "--socket"), ((Option)credentials, "--credentials"), (anonymous, "--anonymous") }
                .Where(source => IsGiven(result, source.Item1) && !(source.Item1 == anonymous && !result.GetValue(anonymous)))
                .Select(source => source.Item2)
                .ToList();
            if (credentialSources.Count > 1)
            {
                result.AddError($"{string.Join(" and ", credentialSources)} cannot be used together: choose one source of device credentials.");
            }

            if (IsGiven(result, ca) && result.GetValue(plain))
            {
                result.AddError("--ca and --plain cannot be used together: --plain connects without TLS.");
            }
            else if (!IsGiven(result, ca) && !result.GetValue(plain) && (IsGiven(result, credentials) || result.GetValue(anonymous)))
            {
                result.AddError("--ca FILE is needed to check the broker's certificate when the credentials do not come from the agent's socket " +
                    "(edgectl agent device-ca --output FILE), or --plain for a listener without TLS.");
            }
        });

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            // The validator has already refused a bad list; this only turns the text into kinds.
            var kindList = KindList.TryParse(parseResult.GetRequiredValue(kinds), out var parsed, out _)
                ? parsed
                : throw new EdgectlException("--kinds: no device kind given.", ExitCodes.Usage);
            var serials = SerialPlan.Generate(kindList, parseResult.GetValue(devices), parseResult.GetValue(serialBase));
            var simulated = await GetDevicesAsync(
                serials, parseResult.GetValue(anonymous), parseResult.GetValue(credentials), parseResult.GetRequiredValue(socket), cancellationToken);

            var usePlain = parseResult.GetValue(plain);
            var deviceCa = usePlain ? null : await DeviceCaSource.GetAsync(parseResult.GetValue(ca), parseResult.GetRequiredValue(socket), cancellationToken);
            var options = new LoadGeneratorOptions
            {
                Host = parseResult.GetRequiredValue(host),
                Port = usePlain && parseResult.GetResult(port) is null or { Implicit: true } ? 1883 : parseResult.GetValue(port),
                DeviceCa = deviceCa,
                Devices = simulated,
                RatePerDevice = parseResult.GetValue(rate),
                Duration = parseResult.GetValue(duration),
                ReadingsPerDevice = parseResult.GetValue(count),
                ProtocolVersion = parseResult.GetValue(protocol) ?? MqttProtocolVersion.V500,
                PublishTimeout = parseResult.GetValue(publishTimeout) ?? TimeSpan.FromSeconds(10),
                AlarmRatio = parseResult.GetValue(alarmRatio),
                Seed = parseResult.GetValue(seed),
                // A technician or script pointed at the wrong port should hear so, not watch retries forever.
                GiveUpIfNoConnectionAfter = TimeSpan.FromSeconds(30),
            };
            LoadGenerator generator;
            try
            {
                generator = new LoadGenerator(options);
            }
            catch (ArgumentException ex)
            {
                // The option parsers catch nearly everything; this is the rest (e.g. a rate too slow to pace).
                throw new EdgectlException($"invalid simulation settings: {ex.Message.ReplaceLineEndings(" ")}", ExitCodes.Usage, ex);
            }

            var report = new SimulationReport(options, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error);
            report.WriteStart();

            var result = await report.FollowAsync(generator, generator.RunAsync(cancellationToken));

            if (parseResult.GetValue(json))
            {
                var summary = SimulationSummary.From(result, report.Broker);
                await parseResult.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(summary, SimulateJsonContext.Default.SimulationSummary));
            }
            else
            {
                report.WriteSummary(result);
            }

            return report.Verdict(result);
        });
        return command;
    }

    static async Task<IReadOnlyList<SimulatedDevice>> GetDevicesAsync(
        IReadOnlyList<string> serials, bool anonymous, string? credentialsFile, string socketPath, CancellationToken cancellationToken)
    {
        if (anonymous)
        {
            return SimulatedCredentials.Anonymous(serials);
        }

        if (credentialsFile is not null)
        {
            return await SimulatedCredentials.FromFileAsync(credentialsFile, serials, cancellationToken);
        }

        using var client = new AgentAdminClient(socketPath);
        try
        {
            return await SimulatedCredentials.ProvisionAsync(client, serials, cancellationToken);
        }
        catch (AgentUnreachableException ex)
        {
            throw new EdgectlException(
                $"{ex.Message} To simulate without the agent's admin socket, use --credentials FILE or --anonymous.", ex.ExitCode, ex);
        }
    }

    static bool IsGiven(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };

    static MqttProtocolVersion? ParseProtocol(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        switch (text)
        {
            case "5" or "5.0" or "500":
                return MqttProtocolVersion.V500;
            case "311" or "3.1.1":
                return MqttProtocolVersion.V311;
            default:
                result.AddError($"--protocol: '{text}' is not supported (use 5 or 311).");
                return null;
        }
    }
}
