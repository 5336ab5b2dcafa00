using Edge.Contracts.Security;

namespace Edge.Cli.Gateways;

/// <summary>
/// Who gets the gateway key: the agent's user (<c>edge-agent</c>, made by the .deb) when edgectl runs as root and that
/// user exists, so the agent reads the key and nobody else does, technicians of the admin group included. Otherwise
/// (no root, or no such user: a development machine, a Windows gateway) the key stays its writer's, mode 0600.
/// </summary>
internal static class AgentKeyOwner
{
    public const string AgentUser = "edge-agent";

    public static UnixOwner? Lookup() =>
        !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess ? UnixAccounts.FindUser(AgentUser) : null;
}
