namespace Edge.Cli.Admin;

/// <summary>The admin socket could not be reached or did not answer; exit code 3.</summary>
internal sealed class AgentUnreachableException(string socketPath, string reason, Exception? innerException = null)
    : EdgectlException(
        $"cannot reach the agent at {socketPath} ({reason}). Is edge-agent running? Set --socket or {AgentSocketOption.EnvironmentVariable}.",
        ExitCodes.Unreachable,
        innerException);
