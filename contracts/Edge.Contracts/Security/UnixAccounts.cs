namespace Edge.Contracts.Security;

/// <summary>A user's or a group's numeric ids, as <c>chown</c> takes them.</summary>
public readonly record struct UnixOwner(int Uid, int Gid);

/// <summary>
/// Local users and groups from <c>/etc/passwd</c> and <c>/etc/group</c>: the agent's system user and group, the admin
/// socket's group, and the name of the user behind a socket peer's uid. Accounts that only a directory service (LDAP,
/// SSSD) knows are not found here; a caller names such a user by its uid instead.
/// </summary>
public static class UnixAccounts
{
    public const string PasswdPath = "/etc/passwd";
    public const string GroupPath = "/etc/group";

    /// <summary>The user named <paramref name="name"/>: its uid and primary gid, or null.</summary>
    public static UnixOwner? FindUser(string name, string passwdPath = PasswdPath) =>
        Entries(passwdPath, minimumFields: 4)
            .Where(f => f[0] == name)
            .Select(f => int.TryParse(f[2], out var uid) && int.TryParse(f[3], out var gid) ? new UnixOwner(uid, gid) : (UnixOwner?)null)
            .FirstOrDefault();

    /// <summary>The name of the user with <paramref name="uid"/>, or null.</summary>
    public static string? UserName(int uid, string passwdPath = PasswdPath) =>
        Entries(passwdPath, minimumFields: 3).FirstOrDefault(f => int.TryParse(f[2], out var id) && id == uid)?[0];

    /// <summary>The gid of the group named <paramref name="name"/>, or null.</summary>
    public static int? FindGroup(string name, string groupPath = GroupPath) =>
        Entries(groupPath, minimumFields: 3)
            .Where(f => f[0] == name)
            .Select(f => int.TryParse(f[2], out var gid) ? gid : (int?)null)
            .FirstOrDefault();

    private static IEnumerable<string[]> Entries(string path, int minimumFields)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return [];
        }

        return File.ReadLines(path)
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split(':'))
            .Where(fields => fields.Length >= minimumFields);
    }
}
