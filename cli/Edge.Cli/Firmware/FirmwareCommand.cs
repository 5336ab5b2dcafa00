using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Configs;
using Edge.Cli.Terminal;
using Edge.Contracts.Devices;
using Edge.Contracts.Downlink;

namespace Edge.Cli.Firmware;

/// <summary><c>edgectl firmware job create|status</c>: offer a firmware version to devices and follow each device's progress.</summary>
internal static class FirmwareCommand
{
    public static Command Create(Option<string?> api) => new(
        "firmware",
        "Firmware jobs: offer a version to devices (they download it themselves) and follow their progress.\n" +
        "Example: edgectl firmware job create --kind ecg --version 2.0.0 --url https://fw.example/ecg-2.0.0.bin --sha256 <hex> --serial ECG-7711-0045")
    {
        new Command("job", "Create a firmware job or show its status.") { CreateJob(api), CreateStatus(api) },
    };

    static Command CreateJob(Option<string?> api)
    {
        var kind = new Option<string>("--kind") { Description = "Device kind: cpap, bipap, oxygen or ecg.", HelpName = "kind", Required = true };
        kind.AcceptOnlyFromAmong("cpap", "bipap", "oxygen", "ecg");
        var version = new Option<string>("--version") { Description = "The firmware version, 1-64 characters.", HelpName = "version", Required = true };
        var url = new Option<string>("--url") { Description = "An https URL the devices download the image from.", HelpName = "url", Required = true };
        var sha256 = new Option<string>("--sha256") { Description = "The image's SHA-256, 64 lower-case hex digits.", HelpName = "hex", Required = true };
        var serials = new Option<string[]>("--serial") { Description = "A target device; repeat for more.", HelpName = "serial", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print the job as JSON." };
        var command = new Command("create", "Offer a firmware version to devices through their gateways.\nExample: edgectl firmware job create --kind oxygen --version 1.4.2 --url https://fw.example/oxy-1.4.2.bin --sha256 9f86… --serial OXY-8844-5521")
        {
            kind,
            version,
            url,
            sha256,
            serials,
            json,
        };
        command.Validators.Add(result =>
        {
            // The same rules the API and the agent apply, checked before anything is sent.
            var targets = result.GetValue(serials) ?? [];
            foreach (var serial in targets)
            {
                if (!SerialNumber.TryParse(serial, out _, out var reason))
                {
                    result.AddError($"--serial: '{serial}' is not a device serial: {reason}.");
                }
            }

            var error = DeviceReplyReader.CheckImage(result.GetValue(version) ?? "", result.GetValue(url) ?? "", result.GetValue(sha256) ?? "");
            if (error.Length > 0)
            {
                result.AddError("--" + error);
            }
        });
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var body = new CreateFirmwareJobBody(parseResult.GetRequiredValue(kind), parseResult.GetRequiredValue(version), parseResult.GetRequiredValue(url),
                parseResult.GetRequiredValue(sha256), parseResult.GetRequiredValue(serials));
            var job = await client.PostAsync("v1/firmware/jobs", body, DownlinkJsonContext.Default.CreateFirmwareJobBody, DownlinkJsonContext.Default.CloudFirmwareJob,
                "create the firmware job", cancellationToken);
            await WriteAsync(parseResult.InvocationConfiguration.Output, job, parseResult.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateStatus(Option<string?> api)
    {
        var id = new Option<Guid>("--id") { Description = "The job id (from job create).", HelpName = "id", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the job as JSON." };
        var command = new Command("status", "Show a firmware job: counts per state and each device's progress.\nExample: edgectl firmware job status --id 0196b1a2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")
        {
            id,
            json,
        };
        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var job = await client.GetAsync($"v1/firmware/jobs/{parseResult.GetValue(id)}", DownlinkJsonContext.Default.CloudFirmwareJob, "read the firmware job", cancellationToken);
            await WriteAsync(parseResult.InvocationConfiguration.Output, job, parseResult.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    static async Task WriteAsync(TextWriter output, CloudFirmwareJob job, bool json)
    {
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(job, DownlinkJsonContext.Default.CloudFirmwareJob));
            return;
        }

        await output.WriteLineAsync($"Firmware job {job.Id}: {job.Kind} {job.Version}, created {Units.Utc(job.CreatedAt)} by {job.CreatedBy}");
        await output.WriteLineAsync("  " + string.Join("  ", job.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}")));
        var table = new TextTable("SERIAL", "STATE", "PERCENT", "UPDATED", "REASON");
        foreach (var device in job.Devices)
        {
            table.Add(device.Serial, device.State, device.Percent?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Units.Utc(device.UpdatedAt), device.Reason ?? "");
        }

        table.Write(output);
    }
}
