using System.Runtime.InteropServices;

namespace Edge.Agent.Admin;

/// <summary>The one ownership call .NET does not offer: give a file to a group (chown with the owner unchanged).</summary>
internal static partial class UnixFiles
{
    /// <summary>Null when done, else the system's reason (for example "Operation not permitted").</summary>
    public static string? ChangeGroup(string path, int gid)
    {
        if (Chown(path, uint.MaxValue /* (uid_t)-1: keep the owner */, (uint)gid) == 0)
        {
            return null;
        }

        return Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
