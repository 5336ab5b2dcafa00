using System.Text.Json;
using Edge.Cli.Files;

namespace Edge.Cli.Cloud;

/// <summary>
/// Where <c>edgectl login</c> keeps the API URL and token: <c>$XDG_CONFIG_HOME/edgectl/credentials.json</c> (or
/// <c>~/.config/edgectl/</c>), the directory mode 0700 and the file 0600 from the moment it exists, like ssh's keys.
/// </summary>
internal static class CredentialStore
{
    public static string Directory
    {
        get
        {
            var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(configHome) || !Path.IsPathRooted(configHome))
            {
                // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
                configHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            }

            return Path.Combine(configHome, "edgectl");
        }
    }

    public static string FilePath => Path.Combine(Directory, "credentials.json");

    public static StoredCredentials? Load()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CloudJsonContext.Default.StoredCredentials);
        }
        catch (JsonException ex)
        {
            throw new EdgectlException($"{path} is not readable ({ex.Message}). Log in again: edgectl login --api URL", ExitCodes.Failed, ex);
        }
    }

    public static void Save(StoredCredentials credentials)
    {
        // An existing directory is tightened too, since it now holds a bearer token.
        PrivateFiles.CreateDirectory(Directory, PrivateFiles.OwnerOnlyDirectory, tighten: true);
        PrivateFiles.WriteAtomically(FilePath, JsonSerializer.SerializeToUtf8Bytes(credentials, CloudJsonContext.Default.StoredCredentials), PrivateFiles.OwnerReadWrite);
    }

    /// <summary>Deletes the stored token; true when there was one.</summary>
    public static bool Delete()
    {
        var path = FilePath;
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }
}
