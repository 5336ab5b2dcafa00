using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>
/// Flushes a file that another component (LiteDB) writes. LiteDB 5 writes its log on commit but never fsyncs it,
/// so the journal opens its own descriptor on the log and syncs that: the page cache is per file, not per descriptor.
/// </summary>
internal sealed partial class FileSync : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileSync(SafeFileHandle handle) => _handle = handle;

    /// <summary>Opens the file for syncing, or returns null when it does not exist yet.</summary>
    public static FileSync? TryOpen(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        // Windows needs write access for FlushFileBuffers; Linux syncs through a read-only descriptor.
        var access = OperatingSystem.IsWindows() ? FileAccess.ReadWrite : FileAccess.Read;
        var handle = File.OpenHandle(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete);
        return new FileSync(handle);
    }

    /// <summary>Makes everything written to the file so far durable (fdatasync on Linux).</summary>
    public void Sync()
    {
        if (OperatingSystem.IsWindows())
        {
            if (!FlushFileBuffers(_handle))
            {
                throw new IOException($"FlushFileBuffers failed ({Marshal.GetLastPInvokeError()}).");
            }

            return;
        }

        var fd = (int)_handle.DangerousGetHandle();
        if (Fdatasync(fd) != 0)
        {
            throw new IOException($"fdatasync failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>Syncs a directory so a newly created file's name survives a power cut.</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory entries itself.
        }

        // .NET will not open a directory as a file, so this one goes straight to libc.
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool FlushFileBuffers(SafeFileHandle handle);
}
