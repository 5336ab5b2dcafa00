using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Agent;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Downlink;
using Edge.Contracts.Validation;

namespace Edge.Cli.Configs;

/// <summary>
/// <c>edgectl config push|status</c>: desired device configs. The file is checked against the device kind's config schema
/// before anything is sent; <c>--wait</c> follows the version until the device answered; <c>--local</c> pushes through
/// the gateway's admin socket for a technician without cloud access (docs/config-push.md has the rule for who wins).
/// </summary>
internal static class ConfigCommand
{
    public static Command Create(Option<string?> api, Option<string> socket, TimeProvider time) => new(
        "config",
        "Push a device's desired config and follow its state (queued, delivered, applied, rejected, superseded).\n" +
        "Example: edgectl config push --serial CPAP-2301-9912 --file cfg.json --wait")
    {
        CreatePush(api, socket, time),
        CreateStatus(api),
    };

    static Command CreatePush(Option<string?> api, Option<string> socket, TimeProvider time)
    {
        var serial = DeviceSerialOption.Create();
        var file = new Option<FileInfo>("--file")
        {
            Description = "The kind's config object as JSON, e.g. {\"target_pressure\":12,\"humidity_level\":3,\"alerts\":{…}} (docs/payloads.md).",
            HelpName = "path",
            Required = true,
        };
        var wait = new Option<bool>("--wait") { Description = "Wait until the device applied or rejected the version (cloud push only)." };
        var timeout = CliOptions.Int32("--timeout", "Seconds --wait waits before giving up.", defaultValue: 120, min: 1, max: 86_400);
        var local = new Option<bool>("--local") { Description = "Push on site through this gateway's agent (no cloud access); the cloud records it later." };
        var json = new Option<bool>("--json") { Description = "Print the resulting config version as JSON." };
        var command = new Command(
            "push",
            "Validate a config file against the device kind's schema, then push it through the cloud (or --local through this gateway).\n" +
            "Exit codes: 0 queued (or applied with --wait), 2 invalid file, 4 rejected by the device or refused by the API, 1 superseded or --wait timed out.\n" +
            "Example: edgectl config push --serial OXY-8844-5521 --file oxy.json --wait --timeout 300")
        {
            serial,
            file,
            wait,
            timeout,
            local,
            json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(local) && result.GetValue(wait))
            {
                result.AddError("--wait follows a cloud push; with --local, check the device's answer with: edgectl config status --local --serial …");
            }
        });

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var device = SerialNumber.Parse(parseResult.GetRequiredValue(serial));
            var config = await ReadConfigFileAsync(parseResult.GetRequiredValue(file), device, cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(local))
            {
                using var agent = new AgentAdminClient(parseResult.GetRequiredValue(socket));
                var pushed = await agent.PushConfigAsync(device.Value, ConfigMessages.Build(device.Value, null, config), cancellationToken);
                await output.WriteLineAsync(parseResult.GetValue(json)
                    ? JsonSerializer.Serialize(pushed, AdminJsonContext.Default.DeviceConfigInfo)
                    : $"Config version {pushed.Version} (on site) published to {pushed.Serial}; the gateway reports it to the cloud when it is connected.");
                return ExitCodes.Ok;
            }

            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var path = $"v1/devices/{Uri.EscapeDataString(device.Value)}/config";
            var version = await client.PutJsonAsync(path, System.Text.Encoding.UTF8.GetBytes(config), DownlinkJsonContext.Default.CloudConfigVersion,
                $"push a config to {device}", cancellationToken);
            if (parseResult.GetValue(wait))
            {
                var deadline = time.GetUtcNow().AddSeconds(parseResult.GetValue(timeout));
                var error = parseResult.InvocationConfiguration.Error;
                while (!version.IsFinal && time.GetUtcNow() < deadline)
                {
                    await error.WriteLineAsync($"version {version.Version}: {version.State}…");
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    version = await client.GetAsync($"{path}?version={version.Version}", DownlinkJsonContext.Default.CloudConfigVersion,
                        $"read the config of {device}", cancellationToken);
                }
            }

            await WriteAsync(output, version, parseResult.GetValue(json));
            if (!parseResult.GetValue(wait))
            {
                return ExitCodes.Ok; // queued: the push itself succeeded
            }

            // superseded, or still queued/delivered when --wait ran out, is a failure to reach the device's answer.
            return version.State switch { "applied" => ExitCodes.Ok, "rejected" => ExitCodes.Refused, _ => ExitCodes.Failed };
        });
        return command;
    }

    static Command CreateStatus(Option<string?> api)
    {
        var serial = DeviceSerialOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the config version as JSON." };
        var command = new Command("status", "Show a device's newest desired config and its state, with the time of each step.\nExample: edgectl config status --serial CPAP-2301-9912")
        {
            serial,
            json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var device = parseResult.GetRequiredValue(serial);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var version = await client.GetAsync($"v1/devices/{Uri.EscapeDataString(device)}/config", DownlinkJsonContext.Default.CloudConfigVersion,
                $"read the config of {device}", cancellationToken);
            await WriteAsync(parseResult.InvocationConfiguration.Output, version, parseResult.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Reads the file and checks it as the device will receive it; errors name the field and exit 2.</summary>
    static async Task<string> ReadConfigFileAsync(FileInfo file, SerialNumber serial, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(file.FullName, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EdgectlException($"--file: cannot read {file.FullName}: {ex.Message}", ExitCodes.Usage, ex);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new EdgectlException($"--file: {file.Name} must hold one JSON object, the kind's config (docs/payloads.md).", ExitCodes.Usage);
            }

            text = document.RootElement.GetRawText();
        }
        catch (JsonException ex)
        {
            throw new EdgectlException($"--file: {file.Name} is not JSON: {ex.Message}", ExitCodes.Usage, ex);
        }

        var validated = PayloadValidator.ValidateConfig(ConfigMessages.Build(serial.Value, 1, text), serial);
        if (!validated.IsValid)
        {
            var problems = string.Join("; ", validated.Errors.Select(e => $"{ConfigMessages.ConfigField(e.Field)}: {e.Reason}"));
            throw new EdgectlException($"--file: {file.Name} is not a valid {DeviceKinds.Name(serial.Kind)} config: {problems}", ExitCodes.Usage);
        }

        return text;
    }

    static async Task WriteAsync(TextWriter output, CloudConfigVersion version, bool json)
    {
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(version, DownlinkJsonContext.Default.CloudConfigVersion));
            return;
        }

        await output.WriteLineAsync($"{version.Serial} config version {version.Version} ({version.Source}): {version.State}{(version.Reason is null ? "" : $" — {version.Reason}")}");
        await output.WriteLineAsync($"  queued     {Units.Utc(version.QueuedAt)} by {version.CreatedBy}");
        foreach (var (step, at) in new[] { ("delivered", version.DeliveredAt), ("applied", version.AppliedAt), ("rejected", version.RejectedAt), ("superseded", version.SupersededAt) })
        {
            if (at is { } time)
            {
                await output.WriteLineAsync($"  {step,-10} {Units.Utc(time)}");
            }
        }
    }
}
