using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Devices;
using Edge.Cli.Terminal;

namespace Edge.Cli.CloudLedger;

/// <summary><c>edgectl cloud rejected list|show|requeue</c>: single readings the cloud did not store.</summary>
internal static class CloudRejectedCommand
{
    public static Command Create(Option<string?> api) => new(
        "rejected",
        "Single readings the cloud did not store: they failed its re-validation, or their store refused them for good\n" +
        "(admins only). After fixing the cause, requeue them: a worker validates and stores each again.\n" +
        "Example: edgectl cloud rejected list --reason \"store refused\"")
    {
        CreateList(api),
        CreateShow(api),
        CreateRequeue(api),
    };

    static Command CreateList(Option<string?> api)
    {
        var gateway = DevicesCommand.IdOption("--gateway", "Only readings sent by this gateway.");
        var serial = new Option<string?>("--serial") { Description = "Only readings of this serial (as sent).", HelpName = "serial" };
        var reason = new Option<string?>("--reason") { Description = "Only readings whose reason contains this text (any case).", HelpName = "text" };
        var since = LedgerText.Time("--since", "Only readings the gateway received at or after this time (RFC 3339).");
        var until = LedgerText.Time("--until", "Only readings the gateway received before this time (RFC 3339).");
        var limit = CliOptions.Int32("--limit", "Most readings to list, newest first.", defaultValue: 100, min: 1, max: 10_000);
        var json = new Option<bool>("--json") { Description = "Print the list as a JSON array (the API's items, without payloads)." };
        var command = new Command(
            "list",
            "List rejected readings, newest first: id, received, gateway, serial, sequence, requeue state, reason.\n" +
            "Example: edgectl cloud rejected list --serial OXY-9600-0002 --json")
        {
            gateway,
            serial,
            reason,
            since,
            until,
            limit,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var filters = string.Concat(
                ApiClient.Filter("gateway", parseResult.GetValue(gateway)), ApiClient.Filter("serial", parseResult.GetValue(serial)),
                ApiClient.Filter("reason", parseResult.GetValue(reason)), ApiClient.Filter("since", parseResult.GetValue(since)), ApiClient.Filter("until", parseResult.GetValue(until)));
            var items = await client.GetPagesAsync("v1/rejected-readings", filters, parseResult.GetValue(limit), CloudJsonContext.Default.CloudPageCloudRejected, "list rejected readings", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(items.ToArray(), CloudJsonContext.Default.CloudRejectedArray));
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                await output.WriteLineAsync("No rejected readings.");
                return ExitCodes.Ok;
            }

            var table = new TextTable("ID", "RECEIVED", "GATEWAY", "SERIAL", "SEQ", "REQUEUE", "REASON").RightAlign(4);
            foreach (var item in items)
            {
                table.Add(item.Id.ToString(), Units.Utc(item.ReceivedAt), item.GatewayId, item.Serial, item.Seq.ToString(CultureInfo.InvariantCulture),
                    LedgerText.Short(item.Requeue), item.Reason);
            }
            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateShow(Option<string?> api)
    {
        var id = new Argument<Guid>("id") { Description = "The reading's id (from 'list')." };
        var json = new Option<bool>("--json") { Description = "Print the API's answer as JSON (the payload as JSON, or payload_base64)." };
        var command = new Command(
            "show",
            "Show one rejected reading: reason, requeue state and the device's payload.\n" +
            "Example: edgectl cloud rejected show 2d81edc5-51da-539d-94f4-82600029029a")
        {
            id,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetValue(id);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var reading = await client.GetAsync($"v1/rejected-readings/{value}", CloudJsonContext.Default.CloudRejectedDetail, $"show rejected reading {value}", cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(reading, CloudJsonContext.Default.CloudRejectedDetail));
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync($"Reading       {reading.Id}");
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Gateway       {reading.GatewayId} (epoch {reading.Epoch}, sequence {reading.Seq})"));
            await output.WriteLineAsync($"Serial        {reading.Serial}");
            await output.WriteLineAsync($"Received      {Units.Utc(reading.ReceivedAt)}");
            await output.WriteLineAsync($"Reason        {reading.Reason}");
            await output.WriteLineAsync($"Requeue       {LedgerText.Requeue(reading.Requeue)}");
            await output.WriteLineAsync($"Payload       {(reading.Payload is { } payload ? payload.GetRawText() : "base64:" + reading.PayloadBase64)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateRequeue(Option<string?> api) => LedgerRequeueCommand.Create<Guid, CloudRejected>(
        api,
        "Ask the cloud's workers to validate and store rejected readings again, after the cause is fixed. A stored\n" +
        "reading disappears from 'list' (one whose device is not the gateway's moves to the quarantine); one that\n" +
        "fails again stays with the new reason ('requeue: failed').\nExample: edgectl cloud rejected requeue 2d81edc5-51da-539d-94f4-82600029029a",
        "The readings' ids (from 'list').",
        "rejected reading",
        id => $"v1/rejected-readings/{id}/requeue",
        CloudJsonContext.Default.CloudRejected,
        CloudJsonContext.Default.CloudRejectedArray,
        answer => $"Rejected reading {answer.Id} ({answer.Serial}): requeue {LedgerText.Requeue(answer.Requeue)}.",
        "edgectl cloud rejected list");
}
