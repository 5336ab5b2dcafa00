using Edge.Contracts.Security;

namespace Edge.Cli.Files;

/// <summary>
/// Writes files that hold secrets or configuration the way ssh does: owner-only modes from the first byte (never a moment
/// of 0644), and atomically (a temporary file, fsync, rename), so a crash leaves the old file or the new one, never half.
/// On Windows the user's profile ACLs protect the files instead of modes.
/// </summary>
internal static class PrivateFiles
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode Readable = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Creates the directory (mode <paramref name="mode"/>); an existing one is tightened to it when <paramref name="tighten"/>.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode, bool tighten)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, mode);
        if (tighten)
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> atomically, created with <paramref name="mode"/>
    /// and, when <paramref name="owner"/> is given, owned by it before the rename (never a moment with another owner).
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content, UnixFileMode mode, UnixOwner? owner = null)
    {
        var temporary = TemporaryPathFor(path);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                if (owner is { } given && !OperatingSystem.IsWindows())
                {
                    FileOwner.Set(stream.SafeFileHandle, given, path);
                }

                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                // The umask may have narrowed the create mode; the mode asked for is the one wanted.
                File.SetUnixFileMode(temporary, mode);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>A hidden temporary name beside <paramref name="path"/>, so the final rename stays on one file system.</summary>
    public static string TemporaryPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
}
