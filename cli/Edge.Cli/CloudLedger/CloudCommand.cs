using System.CommandLine;

namespace Edge.Cli.CloudLedger;

/// <summary><c>edgectl cloud</c>: the cloud's alerts, and what its ingest workers set aside (admins), as opposed to the gateway's own <c>deadletters</c>.</summary>
internal static class CloudCommand
{
    public static Command Create(Option<string?> api) => new(
        "cloud",
        "Work with the CLOUD: its alerts (acknowledge, resolve), and what its ingest workers could not store (admins\n" +
        "only): whole gateway messages (dead-letters) and single readings (rejected). The gateway's own dead letters are\n" +
        "'edgectl deadletters'.\n" +
        "Example: edgectl cloud alerts list --state open")
    {
        Alerts.CloudAlertsCommand.Create(api),
        CloudDeadLettersCommand.Create(api),
        CloudRejectedCommand.Create(api),
    };
}
