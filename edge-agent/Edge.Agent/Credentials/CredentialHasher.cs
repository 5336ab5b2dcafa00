using System.Security.Cryptography;
using System.Text;

namespace Edge.Agent.Credentials;

/// <summary>
/// The hashes device secrets are kept as, and a count of every one computed. Secrets are 256-bit random values the
/// agent generates, so a keyed hash (HMAC-SHA256 under the gateway's key) is as strong as any slow hash against a
/// leaked devices.json, and costs a CONNECT microseconds instead of 20,000 PBKDF2 iterations. PBKDF2 remains only to
/// check credentials stored by earlier agents, once each (<see cref="DeviceCredentialStore"/> migrates them).
/// </summary>
internal sealed class CredentialHasher(byte[] key)
{
    public const int HashBytes = 32;

    private long _hmacOperations;
    private long _pbkdf2Operations;

    public HashOperationCounts Operations => new(Interlocked.Read(ref _hmacOperations), Interlocked.Read(ref _pbkdf2Operations));

    /// <summary>HMAC-SHA256(key, serial, 0x00, secret): the serial is bound in, so a hash copied to another serial fails.</summary>
    public void Hmac(string serial, ReadOnlySpan<byte> secret, Span<byte> hash)
    {
        Interlocked.Increment(ref _hmacOperations);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.ASCII.GetBytes(serial)); // serials are ASCII letters, digits and dashes
        hmac.AppendData([0]);
        hmac.AppendData(secret);
        hmac.GetHashAndReset(hash);
    }

    /// <summary>The hash earlier agents stored: salted PBKDF2-SHA256.</summary>
    public void Pbkdf2(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> salt, int iterations, Span<byte> hash)
    {
        Interlocked.Increment(ref _pbkdf2Operations);
        Rfc2898DeriveBytes.Pbkdf2(secret, salt, hash, iterations, HashAlgorithmName.SHA256);
    }
}
