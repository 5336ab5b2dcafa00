using Edge.Contracts.Security;

namespace Edge.Agent.Journal;

/// <summary>Reads the journal's encryption key from a file that only its owner may read.</summary>
internal static class KeyFile
{
    public static string Read(string path) => OwnerOnlyFile.ReadSecret(path, "Agent:Journal:EncryptionKeyFile", minimumLength: 16);
}
