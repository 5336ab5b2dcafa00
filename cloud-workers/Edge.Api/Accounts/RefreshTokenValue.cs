using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Edge.Api.Accounts;

/// <summary>Refresh tokens: 32 random bytes, base64url; the database keeps only their SHA-256.</summary>
internal static class RefreshTokenValue
{
    /// <summary>Longest value accepted in a request; a real one is 43 characters.</summary>
    public const int MaxLength = 128;

    public static string Create() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static byte[] Sha256(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
