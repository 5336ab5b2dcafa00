using System.CommandLine;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;

namespace Edge.Cli.CloudLedger;

/// <summary>What the two cloud ledger commands share: the time filters and how a requeue state reads.</summary>
internal static class LedgerText
{
    /// <summary><c>--since</c>/<c>--until</c>: RFC 3339 times, checked here so a typo is a usage error, not a round trip.</summary>
    public static Option<string?> Time(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "time" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value
                && !(DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _)
                     && (value.EndsWith('Z') || value.Length > 6 && value[^6] is '+' or '-')))
            {
                result.AddError($"{name}: '{value}' is not an RFC 3339 time with an offset, e.g. 2026-01-15T08:00:00Z.");
            }
        });
        return option;
    }

    /// <summary>"-", "pending since …" or "failed at …: why".</summary>
    public static string Requeue(CloudRequeue requeue) => requeue.State switch
    {
        "pending" => $"pending since {Units.Utc(requeue.RequestedAt!.Value)}",
        "failed" => $"failed at {Units.Utc(requeue.AttemptedAt!.Value)}: {requeue.Outcome}",
        _ => "-",
    };

    public static string Short(CloudRequeue requeue) => requeue.State == "none" ? "-" : requeue.State;
}
