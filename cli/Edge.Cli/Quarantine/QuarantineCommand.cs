using System.CommandLine;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;

namespace Edge.Cli.Quarantine;

/// <summary><c>edgectl quarantine list</c>: readings the cloud held at ingest because their serial is not the sending gateway's (admins).</summary>
internal static class QuarantineCommand
{
    public static Command Create(Option<string?> api) => new(
        "quarantine",
        "Inspect readings the cloud holds because their serial is not a device of the gateway that sent them (admins only).\n" +
        "Registering the device to that gateway releases them.\nExample: edgectl quarantine list --gateway gw-clinic-042")
    {
        CreateList(api),
    };

    static Command CreateList(Option<string?> api)
    {
        var gateway = new Option<string?>("--gateway") { Description = "Only readings sent by this gateway.", HelpName = "id" };
        var serial = new Option<string?>("--serial") { Description = "Only readings of this serial.", HelpName = "serial" };
        var reason = new Option<string?>("--reason") { Description = "Only readings held for this reason.", HelpName = "reason" };
        reason.AcceptOnlyFromAmong("unknown-gateway", "retired-gateway", "unknown-serial", "other-gateway", "retired-device");
        var limit = CliOptions.Int32("--limit", "Most readings to list, newest first.", defaultValue: 100, min: 1, max: 10_000);
        var json = new Option<bool>("--json") { Description = "Print the readings as a JSON array (the API's items, payloads included)." };
        var command = new Command(
            "list",
            "List quarantined readings, newest first: when held, gateway, serial, reason, device time.\n" +
            "Example: edgectl quarantine list --reason other-gateway --json")
        {
            gateway,
            serial,
            reason,
            limit,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var wanted = parseResult.GetValue(limit);
            var filters = string.Concat(
                ApiClient.Filter("gateway", parseResult.GetValue(gateway)), ApiClient.Filter("serial", parseResult.GetValue(serial)), ApiClient.Filter("reason", parseResult.GetValue(reason)));
            var items = await client.GetPagesAsync("v1/quarantine", filters, wanted, CloudJsonContext.Default.CloudPageCloudQuarantined, "list quarantined readings", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(items.ToArray(), CloudJsonContext.Default.CloudQuarantinedArray));
                return ExitCodes.Ok;
            }

            if (items.Count == 0)
            {
                await output.WriteLineAsync("No quarantined readings.");
                return ExitCodes.Ok;
            }

            var table = new TextTable("HELD", "GATEWAY", "SERIAL", "REASON", "DEVICE TIME", "READING ID");
            foreach (var item in items)
            {
                table.Add(Units.Utc(item.QuarantinedAt), item.GatewayId, item.Serial, item.Reason, DeviceTime(item.Payload), item.Id.ToString());
            }

            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static string DeviceTime(JsonElement payload) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("timestamp", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString()! : "-";

}
