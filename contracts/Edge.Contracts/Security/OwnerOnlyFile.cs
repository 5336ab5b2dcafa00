namespace Edge.Contracts.Security;

/// <summary>Reads secrets (keys, tokens) from files only their owner may read, the way ssh treats private keys.</summary>
public static class OwnerOnlyFile
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Returns the trimmed text of <paramref name="path"/>. Refuses, naming <paramref name="setting"/>, a missing file, a
    /// file group or others can read (a leaked key is worse than a service that does not start), and a secret shorter
    /// than <paramref name="minimumLength"/> characters.
    /// </summary>
    public static string ReadSecret(string path, string setting, int minimumLength)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{setting}: {path} does not exist.");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
        {
            throw new InvalidOperationException($"{setting}: {path} is readable by group or others; run 'chmod 600 {path}'.");
        }

        var secret = File.ReadAllText(path).Trim();
        if (secret.Length < minimumLength)
        {
            throw new InvalidOperationException($"{setting}: the secret in {path} is shorter than {minimumLength} characters.");
        }
        return secret;
    }
}
