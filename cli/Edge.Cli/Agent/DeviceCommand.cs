using System.CommandLine;
using System.Net;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.Agent;

/// <summary><c>edgectl agent device add|rotate|remove|list</c>: the agent's local device credentials.</summary>
internal static class DeviceCommand
{
    public static Command Create(Option<string> socket) => new(
        "device",
        "Manage the credentials devices use to connect to the agent's broker.\nExample: edgectl agent device add --serial CPAP-2301-9912")
    {
        CreateAdd(socket),
        CreateRotate(socket),
        CreateRemove(socket),
        CreateList(socket),
    };

    static Command CreateAdd(Option<string> socket)
    {
        var serial = DeviceSerialOption.Create();
        var json = JsonOption("Print the new credential as JSON (the DeviceSecret: serial and secret).");
        var command = new Command(
            "add",
            "Create a credential for a device and print its secret (shown once).\nExample: edgectl agent device add --serial CPAP-2301-9912")
        {
            serial,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            DeviceSecret secret;
            try
            {
                secret = await client.AddDeviceAsync(value, cancellationToken);
            }
            catch (AgentRefusedException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
            {
                throw new EdgectlException(
                    $"device {value} already has a credential. To issue a new secret: edgectl agent device rotate --serial {value}",
                    ExitCodes.Refused,
                    ex);
            }

            await WriteSecretAsync(parseResult, secret, parseResult.GetValue(json), "added");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateRotate(Option<string> socket)
    {
        var serial = DeviceSerialOption.Create();
        var json = JsonOption("Print the new credential as JSON (the DeviceSecret: serial and secret).");
        var command = new Command(
            "rotate",
            "Replace a device's secret with a new one (the old one stops working) and print it once.\n" +
            "Example: edgectl agent device rotate --serial OXY-8844-5521")
        {
            serial,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var secret = await client.RotateDeviceAsync(parseResult.GetRequiredValue(serial), cancellationToken);
            await WriteSecretAsync(parseResult, secret, parseResult.GetValue(json), "rotated");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateRemove(Option<string> socket)
    {
        var serial = DeviceSerialOption.Create();
        var json = JsonOption("Print the result as JSON: {\"serial\": …, \"removed\": true}.");
        var command = new Command(
            "remove",
            "Delete a device's credential; the device can no longer connect.\nExample: edgectl agent device remove --serial ECG-7711-0045")
        {
            serial,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            await client.RemoveDeviceAsync(value, cancellationToken);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(parseResult.GetValue(json)
                // The serial passed DeviceSerialOption (letters, digits, dashes): nothing in it needs JSON escaping.
                ? $"{{\"serial\":\"{value}\",\"removed\":true}}"
                : $"Device {value} removed.");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateList(Option<string> socket)
    {
        var json = JsonOption("Print the credentials as a JSON array (never the secrets).");
        var command = new Command(
            "list",
            "List the devices that have a credential and whether they are connected.\nExample: edgectl agent device list")
        {
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var devices = await client.ListDevicesAsync(cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(devices.ToArray(), AdminJsonContext.Default.DeviceCredentialInfoArray));
                return ExitCodes.Ok;
            }

            if (devices.Count == 0)
            {
                await output.WriteLineAsync("No device credentials. Add one: edgectl agent device add --serial CPAP-2301-9912");
                return ExitCodes.Ok;
            }

            var table = new TextTable("SERIAL", "KIND", "CREATED", "ROTATED", "CONNECTED", "ORIGIN");
            foreach (var device in devices.OrderBy(d => d.Serial, StringComparer.Ordinal))
            {
                table.Add(
                    device.Serial,
                    device.Kind,
                    Units.Utc(device.CreatedAt),
                    device.RotatedAt is { } rotated ? Units.Utc(rotated) : "-",
                    device.Connected ? "yes" : "no",
                    device.Origin);
            }

            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Option<bool> JsonOption(string description) => new("--json") { Description = description };

    static async Task WriteSecretAsync(ParseResult parseResult, DeviceSecret secret, bool json, string verb)
    {
        var output = parseResult.InvocationConfiguration.Output;
        // The warning goes to stderr so that stdout carries only the credential when redirected to a file.
        var warning = $"Store this secret in device {secret.Serial} now: it is shown only once and the agent keeps only a hash of it.";
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(secret, AdminJsonContext.Default.DeviceSecret));
        }
        else
        {
            await output.WriteLineAsync($"Device {secret.Serial} {verb}.");
            await output.WriteLineAsync($"Secret: {secret.Secret}");
        }

        await parseResult.InvocationConfiguration.Error.WriteLineAsync($"warning: {warning}");
    }
}
