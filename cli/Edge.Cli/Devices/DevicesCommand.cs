using System.CommandLine;
using System.Net;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Agent;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.Devices;

/// <summary>
/// <c>edgectl device register|list|show|retire</c>: devices in the cloud registry. <c>register</c> also creates the
/// device's credential on the local agent, cloud first (the registry decides where readings go), then the agent; both
/// steps are idempotent, so re-running a half-finished registration finishes it.
/// </summary>
internal static class DevicesCommand
{
    public static Command Create(Option<string?> api, Option<string> socket) => new(
        "device",
        "Register devices in the cloud registry and on this gateway; list, show and retire them.\n" +
        "Example: edgectl device register --serial OXY-8844-5521 --owner ward-3")
    {
        CreateRegister(api, socket),
        CreateList(api),
        CreateShow(api),
        CreateRetire(api),
    };

    static Command CreateRegister(Option<string?> api, Option<string> socket)
    {
        var serial = DeviceSerialOption.Create();
        var clinic = IdOption("--clinic", "Clinic id (default: the gateway's clinic in the registry).");
        var gateway = IdOption("--gateway", "Gateway id (default: the local agent's gateway id).");
        var owner = new Option<string?>("--owner") { Description = "Who the device is issued to (a patient reference or ward), 1-200 characters.", HelpName = "text" };
        owner.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && (value.Length is 0 or > 200 || value.Any(char.IsControl)))
            {
                result.AddError("--owner must be 1-200 characters without control characters.");
            }
        });
        var json = Json("Print the registry entry and the new secret as JSON: {device, secret, agent_credential}.");
        var command = new Command(
            "register",
            "Register a device in the cloud registry, then create its credential on the local agent and print the secret once.\n" +
            "Example: edgectl device register --serial CPAP-2301-9912 --owner ward-3")
        {
            serial,
            clinic,
            gateway,
            owner,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            using var agent = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var gatewayId = parseResult.GetValue(gateway) ?? (await agent.GetStatusAsync(cancellationToken)).GatewayId;
            var clinicId = parseResult.GetValue(clinic)
                ?? (await client.GetAsync($"v1/gateways/{Uri.EscapeDataString(gatewayId)}", CloudJsonContext.Default.CloudGateway, $"look up gateway {gatewayId}", cancellationToken)).ClinicId;

            var device = await client.PostAsync(
                "v1/devices",
                new RegisterDeviceBody(value, clinicId, gatewayId, parseResult.GetValue(owner)),
                CloudJsonContext.Default.RegisterDeviceBody,
                CloudJsonContext.Default.CloudDevice,
                $"register device {value}",
                cancellationToken);

            DeviceSecret? secret;
            try
            {
                secret = await agent.AddDeviceAsync(value, cancellationToken);
            }
            catch (AgentRefusedException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
            {
                // A previous run finished both steps; its secret was shown then and only then.
                secret = null;
            }
            catch (EdgectlException ex)
            {
                throw new EdgectlException(
                    $"device {value} IS registered in the cloud (clinic {device.ClinicId}, gateway {device.GatewayId}), but its credential was NOT created " +
                    $"on the agent, so it cannot connect yet. Cause: {ex.Message} Fix that and re-run the same command: the cloud step is idempotent.",
                    ex.ExitCode,
                    ex);
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new DeviceRegistration(device, secret?.Secret, secret is null ? "existing" : "created"), DevicesJsonContext.Default.DeviceRegistration));
            }
            else
            {
                await output.WriteLineAsync($"Device {device.Serial} ({device.Kind}) registered in clinic {device.ClinicId} on gateway {device.GatewayId}.");
                await output.WriteLineAsync(secret is null
                    ? $"It already has a credential on this gateway (shown when it was created). For a new secret: edgectl agent device rotate --serial {value}"
                    : $"Secret: {secret.Secret}");
            }

            if (secret is not null)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync(
                    $"warning: Store this secret in device {value} now: it is shown only once and the agent keeps only a hash of it.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateList(Option<string?> api)
    {
        var clinic = IdOption("--clinic", "Only devices of this clinic.");
        var gateway = IdOption("--gateway", "Only devices attached to this gateway.");
        var kind = new Option<string?>("--kind") { Description = "Only this kind: cpap, bipap, oxygen or ecg.", HelpName = "kind" };
        kind.AcceptOnlyFromAmong("cpap", "bipap", "oxygen", "ecg");
        var status = new Option<string?>("--status") { Description = "Only active or retired devices.", HelpName = "status" };
        status.AcceptOnlyFromAmong("active", "retired");
        var limit = CliOptions.Int32("--limit", "Most devices to list.", defaultValue: 100, min: 1, max: 10_000);
        var json = Json("Print the devices as a JSON array.");
        var command = new Command("list", "List registered devices the token may see, by serial.\nExample: edgectl device list --clinic north --kind oxygen")
        {
            clinic,
            gateway,
            kind,
            status,
            limit,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var wanted = parseResult.GetValue(limit);
            var filters = string.Concat(
                ApiClient.Filter("clinic", parseResult.GetValue(clinic)), ApiClient.Filter("gateway", parseResult.GetValue(gateway)),
                ApiClient.Filter("kind", parseResult.GetValue(kind)), ApiClient.Filter("status", parseResult.GetValue(status)));
            var devices = await client.GetPagesAsync("v1/devices", filters, wanted, CloudJsonContext.Default.CloudPageCloudDevice, "list devices", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(devices.ToArray(), CloudJsonContext.Default.CloudDeviceArray));
                return ExitCodes.Ok;
            }

            if (devices.Count == 0)
            {
                await output.WriteLineAsync("No devices. Register one: edgectl device register --serial OXY-8844-5521");
                return ExitCodes.Ok;
            }

            var table = new TextTable("SERIAL", "KIND", "CLINIC", "GATEWAY", "OWNER", "STATUS", "REGISTERED");
            foreach (var device in devices)
            {
                table.Add(device.Serial, device.Kind, device.ClinicId, device.GatewayId ?? "-", device.Owner ?? "-", device.Status, Units.Utc(device.RegisteredAt));
            }

            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateShow(Option<string?> api)
    {
        var serial = DeviceSerialOption.Create();
        var json = Json("Print the registry entry as JSON.");
        var command = new Command("show", "Show one device's registry entry.\nExample: edgectl device show --serial ECG-7711-0045") { serial, json };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var device = await client.GetAsync($"v1/devices/{Uri.EscapeDataString(value)}", CloudJsonContext.Default.CloudDevice, $"show device {value}", cancellationToken);
            await WriteDeviceAsync(parseResult, device, parseResult.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateRetire(Option<string?> api)
    {
        var serial = DeviceSerialOption.Create();
        var json = Json("Print the retired entry as JSON.");
        var command = new Command(
            "retire",
            "Retire a device in the registry; its readings stay queryable and it may be registered again later.\nExample: edgectl device retire --serial OXY-8844-5521")
        {
            serial,
            json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var device = await client.PostAsync($"v1/devices/{Uri.EscapeDataString(value)}/retire", CloudJsonContext.Default.CloudDevice, $"retire device {value}", cancellationToken);
            await WriteDeviceAsync(parseResult, device, parseResult.GetValue(json));
            if (!parseResult.GetValue(json))
            {
                await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                    $"To stop it connecting to its gateway too, run there: edgectl agent device remove --serial {value}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    static async Task WriteDeviceAsync(ParseResult parseResult, CloudDevice device, bool json)
    {
        var output = parseResult.InvocationConfiguration.Output;
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(device, CloudJsonContext.Default.CloudDevice));
            return;
        }

        await output.WriteLineAsync($"Serial        {device.Serial}");
        await output.WriteLineAsync($"Kind          {device.Kind}");
        await output.WriteLineAsync($"Clinic        {device.ClinicId}");
        await output.WriteLineAsync($"Gateway       {device.GatewayId ?? "-"}");
        await output.WriteLineAsync($"Owner         {device.Owner ?? "-"}");
        await output.WriteLineAsync($"Firmware      {device.Firmware ?? "-"}");
        await output.WriteLineAsync($"Status        {device.Status}{(device.RetiredAt is { } retired ? $" (since {Units.Utc(retired)})" : "")}");
        await output.WriteLineAsync($"Registered    {Units.Utc(device.RegisteredAt)}");
        await output.WriteLineAsync($"Config        {(device.ConfigVersion is { } version ? $"version {version}" : "none pushed")}");
    }

    /// <summary>Clinic and gateway ids: the registry's characters only, so a typo fails here and not as a 404 later.</summary>
    internal static Option<string?> IdOption(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "id" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && (value.Length is 0 or > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                result.AddError($"{name}: '{value}' is not an id (1-64 letters, digits, '-' or '_').");
            }
        });
        return option;
    }

    static Option<bool> Json(string description) => new("--json") { Description = description };

}

/// <summary>What <c>device register --json</c> prints; <c>secret</c> is null when the agent already had a credential.</summary>
internal sealed record DeviceRegistration(CloudDevice Device, string? Secret, string AgentCredential);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DeviceRegistration))]
internal sealed partial class DevicesJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
