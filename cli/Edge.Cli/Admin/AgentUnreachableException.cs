namespace Edge.Cli.Admin;

/// <summary>The admin socket could not be reached or did not answer; exit code 3.</summary>
internal sealed class AgentUnreachableException(string socketPath, string reason, Exception? innerException = null, string? hint = null)
    : EdgectlException(
        $"cannot reach the agent at {socketPath} ({reason}). {hint ?? DefaultHint}",
        ExitCodes.Unreachable,
        innerException)
{
    public const string DefaultHint = $"Is edge-agent running? Set --socket or {AgentSocketOption.EnvironmentVariable}.";

    /// <summary>For a socket this user may not open: the agent runs, the user lacks the group (docs/security.md).</summary>
    public const string PermissionHint = "The socket is only for root and the edge-admin group: run with sudo, or join the group " +
        "(sudo usermod -aG edge-admin $USER, then log in again).";
}
