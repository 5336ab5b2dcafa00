namespace Edge.Agent.Admin;

/// <summary>The local admin interface: HTTP over a Unix domain socket, guarded by the socket file's mode.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Agent:Admin";

    /// <summary>Socket path. Default admin.sock under Agent:RuntimeDirectory.</summary>
    public string? SocketPath { get; set; }

    /// <summary>Socket file mode (octal). Default 0660: the agent's user and group (technicians in it) only.</summary>
    public string SocketMode { get; set; } = "0660";
}
