using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.Devices;
using Edge.Cli.Terminal;

namespace Edge.Cli.CloudLedger;

/// <summary><c>edgectl cloud dead-letters list|show|requeue</c>: gateway messages the cloud's workers could not read or store.</summary>
internal static class CloudDeadLettersCommand
{
    public static Command Create(Option<string?> api) => new(
        "dead-letters",
        "Whole gateway messages the cloud's ingest workers could not read or store, kept with the reason (admins only).\n" +
        "After fixing the cause, requeue them: a worker processes the batch again and removes it once stored.\n" +
        "Example: edgectl cloud dead-letters list --gateway gw-clinic-042")
    {
        CreateList(api),
        CreateShow(api),
        CreateRequeue(api),
    };

    static Command CreateList(Option<string?> api)
    {
        var gateway = DevicesCommand.IdOption("--gateway", "Only messages of this gateway.");
        var since = LedgerText.Time("--since", "Only messages received at or after this time (RFC 3339).");
        var until = LedgerText.Time("--until", "Only messages received before this time (RFC 3339).");
        var limit = CliOptions.Int32("--limit", "Most messages to list, newest first.", defaultValue: 100, min: 1, max: 10_000);
        var json = new Option<bool>("--json") { Description = "Print the list as a JSON array (the API's items, without payloads)." };
        var command = new Command(
            "list",
            "List the cloud's dead letters, newest first: id, received, gateway, size, requeue state, reason.\n" +
            "Example: edgectl cloud dead-letters list --since 2026-12-01T00:00:00Z --json")
        {
            gateway,
            since,
            until,
            limit,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var filters = string.Concat(
                ApiClient.Filter("gateway", parseResult.GetValue(gateway)), ApiClient.Filter("since", parseResult.GetValue(since)), ApiClient.Filter("until", parseResult.GetValue(until)));
            var items = await client.GetPagesAsync("v1/dead-letters", filters, parseResult.GetValue(limit), CloudJsonContext.Default.CloudPageCloudDeadLetter, "list the cloud's dead letters", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(items.ToArray(), CloudJsonContext.Default.CloudDeadLetterArray));
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                await output.WriteLineAsync("No dead letters in the cloud.");
                return ExitCodes.Ok;
            }

            var table = new TextTable("ID", "RECEIVED", "GATEWAY", "SIZE", "REQUEUE", "REASON").RightAlign(0, 3);
            foreach (var item in items)
            {
                table.Add(item.Id.ToString(CultureInfo.InvariantCulture), Units.Utc(item.ReceivedAt), item.GatewayId.Length == 0 ? "-" : item.GatewayId,
                    Units.Bytes(item.PayloadBytes), LedgerText.Short(item.Requeue), item.Reason);
            }
            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateShow(Option<string?> api)
    {
        var id = new Argument<long>("id") { Description = "The dead letter's id (from 'list')." };
        var json = new Option<bool>("--json") { Description = "Print the API's answer as JSON (the batch decoded, or payload_base64)." };
        var command = new Command(
            "show",
            "Show one dead letter: reason, requeue state, and the message: the batch's header and readings when it is\n" +
            "a readable batch, else its bytes as base64.\nExample: edgectl cloud dead-letters show 42")
        {
            id,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetValue(id);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var letter = await client.GetAsync($"v1/dead-letters/{value}", CloudJsonContext.Default.CloudDeadLetterDetail, $"show dead letter {value}", cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(letter, CloudJsonContext.Default.CloudDeadLetterDetail));
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync($"Dead letter   {letter.Id}");
            await output.WriteLineAsync($"Received      {Units.Utc(letter.ReceivedAt)}");
            await output.WriteLineAsync($"Gateway       {(letter.GatewayId.Length == 0 ? "-" : letter.GatewayId)}");
            await output.WriteLineAsync($"Topic         {letter.Topic}");
            await output.WriteLineAsync($"Size          {Units.Bytes(letter.PayloadBytes)}");
            await output.WriteLineAsync($"Reason        {letter.Reason}");
            await output.WriteLineAsync($"Requeue       {LedgerText.Requeue(letter.Requeue)}");
            if (letter.Batch is { } batch)
            {
                var header = batch.GetProperty("header");
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Batch         epoch {header.GetProperty("epoch").GetInt64()}, {header.GetProperty("lane").GetString()} lane, sequences {header.GetProperty("first_sequence").GetInt64()}-{header.GetProperty("last_sequence").GetInt64()}"));
                var table = new TextTable("SEQ", "SERIAL", "RECEIVED", "PAYLOAD").RightAlign(0);
                foreach (var reading in batch.GetProperty("readings").EnumerateArray())
                {
                    var payload = reading.GetProperty("payload");
                    table.Add(reading.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture), reading.GetProperty("serial").GetString()!,
                        Units.Utc(reading.GetProperty("received_at").GetDateTimeOffset()),
                        payload.ValueKind == JsonValueKind.Null ? "base64:" + reading.GetProperty("payload_base64").GetString() : payload.GetRawText());
                }
                await output.WriteLineAsync();
                table.Write(output);
            }
            else
            {
                await output.WriteLineAsync($"Payload       base64:{letter.PayloadBase64}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateRequeue(Option<string?> api) => LedgerRequeueCommand.Create<long, CloudDeadLetter>(
        api,
        "Ask the cloud's workers to process dead-lettered batches again, after the cause is fixed. A stored batch\n" +
        "disappears from 'list'; one that fails again stays with the new reason ('requeue: failed').\n" +
        "Example: edgectl cloud dead-letters requeue 42 43",
        "The dead letters' ids (from 'list').",
        "dead letter",
        id => $"v1/dead-letters/{id}/requeue",
        CloudJsonContext.Default.CloudDeadLetter,
        CloudJsonContext.Default.CloudDeadLetterArray,
        answer => $"Dead letter {answer.Id}: requeue {LedgerText.Requeue(answer.Requeue)}.",
        "edgectl cloud dead-letters list");
}
