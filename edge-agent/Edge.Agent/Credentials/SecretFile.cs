using Edge.Agent.Journal;

namespace Edge.Agent.Credentials;

/// <summary>Writes files that hold secrets: mode 0600 from the first byte, replaced atomically, synced.</summary>
internal static class SecretFile
{
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        File.Delete(temp); // a leftover from a crash may have another mode; UnixCreateMode applies only to new files
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        FileSync.SyncDirectory(directory);
    }
}
