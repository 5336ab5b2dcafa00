namespace Edge.Console.Hosting;

/// <summary>The console's state directories: created 0700, and tightened to 0700 when they exist looser.</summary>
internal static class StateDirectory
{
    public static string Ensure(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(full);
            return full;
        }
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(full, OwnerOnly);
        if (File.GetUnixFileMode(full) != OwnerOnly)
        {
            File.SetUnixFileMode(full, OwnerOnly);
        }
        return full;
    }
}
