using Edge.Contracts.Security;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Journal;

/// <summary>The journal's encryption key and where it came from (for the log; never the key itself).</summary>
internal sealed record JournalKey(string Password, string Source);

/// <summary>
/// Reads the journal's encryption key: from a systemd credential (<c>$CREDENTIALS_DIRECTORY/{name}</c>, decrypted by
/// systemd from <c>LoadCredentialEncrypted=</c>, held in memory and visible to this service only) or from a key file
/// only its owner may read. A key that cannot be read is a settings error: the agent stops with exit code 78.
/// </summary>
internal static class KeyFile
{
    /// <summary>systemd's variable naming the service's credentials directory (systemd.exec(5), "Credentials").</summary>
    public const string CredentialsDirectoryVariable = "CREDENTIALS_DIRECTORY";

    public static JournalKey? Read(JournalOptions options)
    {
        // Empty is unset, so that a drop-in can take a setting back (Environment=Agent__Journal__EncryptionKeyCredential=).
        if (options.EncryptionKeyCredential is { Length: > 0 } name)
        {
            var directory = Environment.GetEnvironmentVariable(CredentialsDirectoryVariable);
            if (string.IsNullOrEmpty(directory))
            {
                throw Refused($"Agent:Journal:EncryptionKeyCredential: ${CredentialsDirectoryVariable} is not set, so there is no credential '{name}'. " +
                    $"Start the agent under systemd with LoadCredentialEncrypted={name}:<file> (the .deb does), or use Agent:Journal:EncryptionKeyFile.");
            }

            var path = Path.Combine(directory, name);
            return new JournalKey(ReadSecret(path, "Agent:Journal:EncryptionKeyCredential"), $"systemd credential {name}");
        }

        return options.EncryptionKeyFile is { Length: > 0 } file ? new JournalKey(ReadSecret(file, "Agent:Journal:EncryptionKeyFile"), file) : null;
    }

    public static OptionsValidationException Refused(string failure) => new(JournalOptions.SectionName, typeof(JournalOptions), [failure]);

    private static string ReadSecret(string path, string setting)
    {
        try
        {
            return OwnerOnlyFile.ReadSecret(path, setting, minimumLength: 16);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw Refused(ex is InvalidOperationException ? ex.Message : $"{setting}: cannot read {path} ({ex.Message.TrimEnd('.')}).");
        }
    }
}
