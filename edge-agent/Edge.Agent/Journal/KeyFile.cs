namespace Edge.Agent.Journal;

/// <summary>Reads a secret from a file that only its owner may read (like ssh does with private keys).</summary>
internal static class KeyFile
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static string Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Agent:Journal:EncryptionKeyFile: {path} does not exist.");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
        {
            throw new InvalidOperationException(
                $"Agent:Journal:EncryptionKeyFile: {path} is readable by group or others; run 'chmod 600 {path}'.");
        }

        var key = File.ReadAllText(path).Trim();
        if (key.Length < 16)
        {
            throw new InvalidOperationException($"Agent:Journal:EncryptionKeyFile: the key in {path} is shorter than 16 characters.");
        }

        return key;
    }
}
