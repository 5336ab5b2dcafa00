using System.CommandLine;
using Edge.Cli.Users;

namespace Edge.Cli.CloudLedger;

/// <summary>
/// <c>edgectl cloud</c>: the cloud's alerts, what its ingest workers set aside (admins), as opposed to the gateway's own
/// <c>deadletters</c>, and the API's local user accounts.
/// </summary>
internal static class CloudCommand
{
    public static Command Create(Option<string?> api, TimeProvider time) => new(
        "cloud",
        "Work with the CLOUD: its alerts (acknowledge, resolve); what its ingest workers could not store (admins only):\n" +
        "whole gateway messages (dead-letters) and single readings (rejected), the gateway's own dead letters being\n" +
        "'edgectl deadletters'; and the API's local user accounts (user).\n" +
        "Example: edgectl cloud alerts list --state open")
    {
        Alerts.CloudAlertsCommand.Create(api),
        CloudDeadLettersCommand.Create(api),
        CloudRejectedCommand.Create(api),
        CloudUserCommand.Create(api, time),
    };
}
