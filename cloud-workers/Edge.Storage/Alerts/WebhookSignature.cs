using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Edge.Storage.Alerts;

/// <summary>
/// The webhook signature, defined once for the sender and for receivers: <c>X-Edge-Signature: sha256=</c> followed by
/// the lower-case hex HMAC-SHA256, keyed with the subscription secret (UTF-8), of <c>{X-Edge-Timestamp}.{body}</c>.
/// </summary>
/// <remarks>
/// The timestamp (Unix seconds, the time of the attempt) is inside the signed text, so a receiver that also checks it
/// is recent (<see cref="DefaultTolerance"/>) cannot be fed an old request again. Each retry is signed afresh.
/// </remarks>
public static class WebhookSignature
{
    public const string IdHeader = "X-Edge-Webhook-Id";
    public const string TimestampHeader = "X-Edge-Timestamp";
    public const string SignatureHeader = "X-Edge-Signature";
    public const string Scheme = "sha256=";

    /// <summary>How far a request's timestamp may be from the receiver's clock: 5 minutes, allowing for clock skew.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The <c>X-Edge-Signature</c> value of <paramref name="body"/> sent at <paramref name="timestamp"/> (Unix seconds).</summary>
    public static string Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(secret, timestamp, body, mac);
        return Scheme + Convert.ToHexStringLower(mac);
    }

    /// <summary>True when <paramref name="signature"/> is the signature of <paramref name="body"/> at <paramref name="timestamp"/>; compared in constant time.</summary>
    public static bool Verify(string secret, long timestamp, ReadOnlySpan<byte> body, string? signature)
    {
        if (signature is null || !signature.StartsWith(Scheme, StringComparison.Ordinal) || signature.Length != Scheme.Length + (2 * HMACSHA256.HashSizeInBytes))
        {
            return false;
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(signature.AsSpan(Scheme.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != given.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(secret, timestamp, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// What a receiver checks, from the two headers as received: the timestamp is a whole number of Unix seconds within
    /// <paramref name="tolerance"/> of <paramref name="now"/>, and the signature matches.
    /// </summary>
    public static bool Verify(string secret, string? timestampHeader, ReadOnlySpan<byte> body, string? signatureHeader, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return false;
        }
        var age = now.ToUnixTimeSeconds() - timestamp;
        return Math.Abs(age) <= tolerance.TotalSeconds && Verify(secret, timestamp, body, signatureHeader);
    }

    private static void Mac(string secret, long timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        Span<byte> prefix = stackalloc byte[21];
        timestamp.TryFormat(prefix, out var length, default, CultureInfo.InvariantCulture);
        prefix[length++] = (byte)'.';
        hmac.AppendData(prefix[..length]);
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}
