using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Admin;

/// <summary>The local admin interface: HTTP over a Unix domain socket, guarded by the socket file's owner, group and mode.</summary>
internal sealed class AdminOptions
{
    public const string SectionName = "Agent:Admin";

    /// <summary>Socket path. Default admin.sock under Agent:RuntimeDirectory.</summary>
    public string? SocketPath { get; set; }

    /// <summary>
    /// Socket file mode (octal). Default 0660: the agent's user and the socket's group only. A mode that lets others
    /// write (connect) is refused at start: it would give every local account the admin interface.
    /// </summary>
    public string SocketMode { get; set; } = "0660";

    /// <summary>
    /// Group the socket is given (the people who may use <c>edgectl agent …</c>). Unset (the default): the agent's own
    /// group. The .deb's unit sets <c>edge-admin</c>, so technicians need no membership of the service's group, whose
    /// files (journal, keys) stay the agent's alone. The agent must be a member (the unit's SupplementaryGroups=).
    /// </summary>
    public string? SocketGroup { get; set; }

    /// <summary>Largest request body the admin socket reads, in bytes. Default 64 KiB; a larger one is answered 413.</summary>
    [SettingRange(1024, 16 * 1024 * 1024, ErrorMessage = "Agent:Admin:MaxRequestBodyBytes must be between 1024 and 16777216.")]
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;
}
