using Edge.Contracts.Security;
using Microsoft.IdentityModel.Tokens;

namespace Edge.Api.Auth;

/// <summary>The symmetric key of local mode: read from <see cref="AuthOptions.SigningKeyFile"/> or <see cref="AuthOptions.SigningKey"/>.</summary>
internal static class LocalSigningKey
{
    /// <summary>HMAC-SHA256 wants at least as many key bytes as the hash; shorter keys are refused.</summary>
    public const int MinimumBytes = 32;

    /// <summary>The key, or null in authority mode. Throws with the setting's name when the key is unusable.</summary>
    public static SymmetricSecurityKey? Load(AuthOptions options)
    {
        string? base64 = null;
        var setting = "Api:Auth:SigningKey";
        if (!string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            setting = "Api:Auth:SigningKeyFile";
            base64 = OwnerOnlyFile.ReadSecret(options.SigningKeyFile, setting, minimumLength: 1);
        }
        else if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            base64 = options.SigningKey.Trim();
        }

        if (base64 is null)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{setting} is not base64; generate a key with 'openssl rand -base64 32'.");
        }
        if (bytes.Length < MinimumBytes)
        {
            throw new InvalidOperationException($"{setting} is {bytes.Length} bytes; at least {MinimumBytes} are required ('openssl rand -base64 32').");
        }
        return new SymmetricSecurityKey(bytes) { KeyId = "local" };
    }
}
