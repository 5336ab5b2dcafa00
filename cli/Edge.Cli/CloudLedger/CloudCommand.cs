using System.CommandLine;
using Edge.Cli.Users;

namespace Edge.Cli.CloudLedger;

/// <summary>
/// <c>edgectl cloud</c>: what the cloud's ingest workers set aside (admins), as opposed to the gateway's own
/// <c>deadletters</c>, and the API's local user accounts.
/// </summary>
internal static class CloudCommand
{
    public static Command Create(Option<string?> api) => new(
        "cloud",
        "Inspect and requeue what the CLOUD's ingest workers could not store (admins only): whole gateway messages\n" +
        "(dead-letters) and single readings (rejected). The gateway's own dead letters are 'edgectl deadletters'.\n" +
        "Manage the API's local user accounts (user).\n" +
        "Example: edgectl cloud rejected list --reason \"store refused\"")
    {
        CloudDeadLettersCommand.Create(api),
        CloudRejectedCommand.Create(api),
        CloudUserCommand.Create(api),
    };
}
