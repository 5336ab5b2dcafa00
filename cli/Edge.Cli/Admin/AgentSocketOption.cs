using System.CommandLine;

namespace Edge.Cli.Admin;

/// <summary>The global <c>--socket</c> option: where the agent's admin interface listens.</summary>
internal static class AgentSocketOption
{
    public const string EnvironmentVariable = "EDGE_AGENT_SOCKET";

    /// <summary>Where the agent's systemd unit puts the socket (RuntimeDirectory=edge-agent).</summary>
    public const string DefaultPath = "/run/edge-agent/admin.sock";

    public static Option<string> Create() => new("--socket")
    {
        Description = $"Path of the agent's admin socket (env {EnvironmentVariable}).",
        HelpName = "path",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } path ? path : DefaultPath,
    };
}
