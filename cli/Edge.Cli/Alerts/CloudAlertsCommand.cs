using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edge.Cli.Cloud;
using Edge.Cli.CloudLedger;
using Edge.Cli.Devices;
using Edge.Cli.Terminal;

namespace Edge.Cli.Alerts;

/// <summary><c>edgectl cloud alerts list|show|ack|resolve</c>: the cloud's alerts and their lifecycle, within the caller's clinics.</summary>
internal static class CloudAlertsCommand
{
    private const int MaxNote = 1000;

    public static Command Create(Option<string?> api) => new(
        "alerts",
        "The cloud's alerts (thresholds crossed, device alarms, maintenance due, gateways silent, device clocks off),\n" +
        "within your clinics. Acknowledge one to say you are on it, resolve it when it is dealt with; both keep who,\n" +
        "when and your note, and both are in the audit log.\n" +
        "Example: edgectl cloud alerts list --state open --severity critical")
    {
        CreateList(api),
        CreateShow(api),
        CreateStep(api, "ack", "acknowledge", "Acknowledge alerts: you have seen them and are on it. Acknowledging one again\n" +
            "shows the first acknowledgement; a resolved alert cannot be acknowledged.\nExample: edgectl cloud alerts ack 3f2c… --note \"calling the patient\""),
        CreateStep(api, "resolve", "resolve", "Resolve alerts (open or acknowledged) once dealt with. Resolving one again shows the first resolution.\n" +
            "Example: edgectl cloud alerts resolve 3f2c… --note \"mask refitted\""),
    };

    static Command CreateList(Option<string?> api)
    {
        var state = Choice("--state", "Only alerts in this state.", "open", "acknowledged", "resolved");
        var severity = Choice("--severity", "Only alerts of this severity.", "critical", "warning");
        var kind = Choice("--kind", "Only alerts about this kind of subject.", "cpap", "bipap", "oxygen", "ecg", "gateway");
        var clinic = DevicesCommand.IdOption("--clinic", "Only alerts of this clinic.");
        var serial = new Option<string?>("--serial") { Description = "Only alerts of this device." };
        var rule = new Option<string?>("--rule") { Description = "Only alerts of this rule, e.g. gateway_silent (the API names the known rules)." };
        var since = LedgerText.Time("--since", "Only alerts raised at or after this time (RFC 3339).");
        var until = LedgerText.Time("--until", "Only alerts raised before this time (RFC 3339).");
        var limit = CliOptions.Int32("--limit", "Most alerts to list, newest first.", defaultValue: 100, min: 1, max: 10_000);
        var json = new Option<bool>("--json") { Description = "Print the list as a JSON array (the API's items)." };
        var command = new Command(
            "list",
            "List alerts, newest first: id, raised, severity, state, rule, subject, message.\n" +
            "Example: edgectl cloud alerts list --state open --kind gateway")
        {
            state, severity, kind, clinic, serial, rule, since, until, limit, json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var filters = string.Concat(
                ApiClient.Filter("state", parseResult.GetValue(state)), ApiClient.Filter("severity", parseResult.GetValue(severity)),
                ApiClient.Filter("kind", parseResult.GetValue(kind)), ApiClient.Filter("clinic", parseResult.GetValue(clinic)),
                ApiClient.Filter("serial", parseResult.GetValue(serial)), ApiClient.Filter("rule", parseResult.GetValue(rule)),
                ApiClient.Filter("since", parseResult.GetValue(since)), ApiClient.Filter("until", parseResult.GetValue(until)));
            var items = await client.GetPagesAsync("v1/alerts", filters, parseResult.GetValue(limit), CloudJsonContext.Default.CloudPageCloudAlert, "list alerts", cancellationToken);

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(items.ToArray(), CloudJsonContext.Default.CloudAlertArray));
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                await output.WriteLineAsync("No alerts.");
                return ExitCodes.Ok;
            }

            var table = new TextTable("ID", "RAISED", "SEVERITY", "STATE", "RULE", "SUBJECT", "MESSAGE");
            foreach (var alert in items)
            {
                table.Add(alert.Id.ToString(), Units.Utc(alert.CreatedAt), alert.Severity, alert.State, alert.Rule, Subject(alert), alert.Message);
            }
            table.Write(output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateShow(Option<string?> api)
    {
        var id = new Argument<Guid>("id") { Description = "The alert's id (from 'list')." };
        var json = new Option<bool>("--json") { Description = "Print the API's answer as JSON." };
        var command = new Command("show", "Show one alert with its lifecycle: who acknowledged and resolved it, when, and their notes.\n" +
            "Example: edgectl cloud alerts show 3f2c…")
        {
            id,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetValue(id);
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var alert = await client.GetAsync($"v1/alerts/{value}", CloudJsonContext.Default.CloudAlert, $"show alert {value}", cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(alert, CloudJsonContext.Default.CloudAlert));
                return ExitCodes.Ok;
            }
            await WriteAsync(output, alert);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command CreateStep(Option<string?> api, string name, string path, string description)
    {
        var ids = new Argument<Guid[]>("id") { Description = "The alerts' ids (from 'list').", Arity = ArgumentArity.OneOrMore };
        var note = new Option<string?>("--note") { Description = $"What you did or why (at most {MaxNote} characters); kept with the alert." };
        note.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { Length: > MaxNote } value)
            {
                result.AddError($"--note: at most {MaxNote} characters (was {value.Length}).");
            }
        });
        var json = new Option<bool>("--json") { Description = "Print the API's answers as a JSON array." };
        var command = new Command(name, description)
        {
            ids,
            note,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new ApiClient(CloudSession.Resolve(parseResult, api));
            var body = new AlertStepBody(parseResult.GetValue(note));
            var answers = new List<CloudAlert>();
            foreach (var value in parseResult.GetRequiredValue(ids))
            {
                answers.Add(await client.PostAsync($"v1/alerts/{value}/{path}", body, CloudJsonContext.Default.AlertStepBody,
                    CloudJsonContext.Default.CloudAlert, $"{path} alert {value}", cancellationToken));
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(answers.ToArray(), CloudJsonContext.Default.CloudAlertArray));
                return ExitCodes.Ok;
            }
            foreach (var alert in answers)
            {
                await output.WriteLineAsync(path == "acknowledge"
                    ? $"Alert {alert.Id}: acknowledged by {alert.AcknowledgedBy} at {Units.Utc(alert.AcknowledgedAt!.Value)}{Note(alert.AcknowledgedNote)}."
                    : $"Alert {alert.Id}: resolved by {alert.ResolvedBy} at {Units.Utc(alert.ResolvedAt!.Value)}{Note(alert.ResolvedNote)}.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    static async Task WriteAsync(TextWriter output, CloudAlert alert)
    {
        await output.WriteLineAsync($"Alert         {alert.Id}");
        await output.WriteLineAsync($"Rule          {alert.Rule} ({alert.Severity})");
        await output.WriteLineAsync($"Message       {alert.Message}");
        await output.WriteLineAsync($"Subject       {Subject(alert)} ({alert.Kind}), clinic {alert.ClinicId ?? "-"}");
        if (alert.Value is { } value)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Value         {value} (threshold {alert.Threshold})"));
        }
        await output.WriteLineAsync($"Raised        {Units.Utc(alert.CreatedAt)} (about {Units.Utc(alert.DeviceTime)})");
        await output.WriteLineAsync($"State         {alert.State}");
        if (alert.AcknowledgedAt is { } acknowledged)
        {
            await output.WriteLineAsync($"Acknowledged  {Units.Utc(acknowledged)} by {alert.AcknowledgedBy}{Note(alert.AcknowledgedNote)}");
        }
        if (alert.ResolvedAt is { } resolved)
        {
            await output.WriteLineAsync($"Resolved      {Units.Utc(resolved)} by {alert.ResolvedBy}{Note(alert.ResolvedNote)}");
        }
    }

    static string Subject(CloudAlert alert) => alert.Serial ?? alert.GatewayId ?? "-";

    static string Note(string? note) => note is null ? "" : $": \"{note}\"";

    static Option<string?> Choice(string name, string description, params string[] values)
    {
        var option = new Option<string?>(name) { Description = $"{description} One of: {string.Join(", ", values)}." };
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
