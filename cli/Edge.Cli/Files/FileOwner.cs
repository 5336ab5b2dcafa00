using System.Runtime.InteropServices;
using Edge.Contracts.Security;
using Microsoft.Win32.SafeHandles;

namespace Edge.Cli.Files;

/// <summary>Gives a file to a user and group (fchown), which .NET does not offer. Unix only; root may give any file away.</summary>
internal static partial class FileOwner
{
    /// <summary>Changes the owner of the open file <paramref name="handle"/> (named <paramref name="path"/> in errors).</summary>
    public static void Set(SafeFileHandle handle, UnixOwner owner, string path)
    {
        if (Fchown((int)handle.DangerousGetHandle(), (uint)owner.Uid, (uint)owner.Gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot give {path} to uid {owner.Uid} gid {owner.Gid}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Changes the owner of the existing file <paramref name="path"/>.</summary>
    public static void Set(string path, UnixOwner owner)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        Set(handle, owner, path);
    }

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int Fchown(int fd, uint owner, uint group);
}
