using System.Security.Cryptography;
using Edge.Contracts.Security;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Credentials;

/// <summary>
/// The gateway's key for device-secret hashes (<c>devices.key</c> next to <c>devices.json</c>, mode 0600): 32 random
/// bytes, base64, created the first time the agent runs without one. The stored hashes are useless without it, so the
/// agent refuses to start when hashes exist and the key does not (a new key would lock every device out silently).
/// </summary>
internal static class CredentialKey
{
    public const int Bytes = 32;

    public static byte[] LoadOrCreate(string path, string credentialsPath, int hashesUsingIt, ILogger logger)
    {
        if (!File.Exists(path))
        {
            if (hashesUsingIt > 0)
            {
                throw new InvalidOperationException(
                    $"The device credential key {path} is missing, and {credentialsPath} holds {hashesUsingIt} credential(s) hashed with it. " +
                    "Restore the key from the backup taken with devices.json, or remove devices.json and re-provision every device (edgectl agent device add).");
            }

            var created = RandomNumberGenerator.GetBytes(Bytes);
            SecretFile.WriteAtomically(path, System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(created)));
            Log.CredentialKeyCreated(logger, path);
            return created;
        }

        var text = OwnerOnlyFile.ReadSecret(path, "the device credential key", minimumLength: 1);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"the device credential key: {path} is not base64. Restore it from backup.");
        }

        return key.Length == Bytes
            ? key
            : throw new InvalidOperationException($"the device credential key: {path} holds {key.Length} bytes, not {Bytes}. Restore it from backup.");
    }
}
