using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>The two durability calls the journal needs: fdatasync a file, fsync a directory.</summary>
internal static partial class FileSync
{
    /// <summary>Makes everything written to the file so far durable (fdatasync on Linux, FlushFileBuffers on Windows).</summary>
    public static void DataSync(SafeFileHandle handle)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!FlushFileBuffers(handle))
            {
                throw new IOException($"FlushFileBuffers failed ({Marshal.GetLastPInvokeError()}).");
            }

            return;
        }

        if (Fdatasync((int)handle.DangerousGetHandle()) != 0)
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
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Drops a file's pages from the page cache (posix_fadvise DONTNEED; nothing on Windows). Linux 6.x caches a file
    /// written or read in large chunks in large folios, and then writes back a whole folio (up to 1 MiB, measured) for
    /// a 4 KiB change: the write-ahead log drops its pages after writing or reading them in bulk, so each commit's
    /// overwrite dirties one 4 KiB folio. Advice only: a failure changes nothing but the write volume.
    /// </summary>
    public static void DropCache(SafeFileHandle handle)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Fadvise((int)handle.DangerousGetHandle(), 0, 0, 4 /* POSIX_FADV_DONTNEED */);
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(int fd, long offset, long length, int advice);

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
