using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Edge.Contracts.Identity;

/// <summary>The permanent identity of one journal entry: a name-based UUID of gateway id, journal epoch and sequence.</summary>
/// <remarks>
/// RFC 9562 version 5: SHA-1 over <see cref="Namespace"/> (16 bytes, network order) followed by the UTF-8 of
/// <c>{gatewayId}/{epoch}/{sequence}</c> (invariant decimal integers), truncated to 16 bytes, version and variant bits set.
/// Stores key on it with insert-if-absent, so a re-sent reading is the same row after a crash, a reinstall or a
/// cloud-side replay. The name cannot collide across different inputs: epoch and sequence are integers without a
/// '/', so the last two segments always split off unambiguously, even when the gateway id contains '/'.
/// Changing the namespace or the name format re-keys every reading ever stored: neither may change.
/// </remarks>
public static class ReadingId
{
    /// <summary>
    /// <c>8febb2ef-9445-5ac1-8edd-72df812c2b03</c>: itself the v5 UUID of the RFC 9562 URL namespace and the name
    /// <c>urn:clinic-edge:reading-id:v1</c>, so anyone can re-derive it. Fixed forever.
    /// </summary>
    public static readonly Guid Namespace = new("8febb2ef-9445-5ac1-8edd-72df812c2b03");

    // gateway id (bounded below) + two longs with sign + two separators fits a stack buffer in every real case.
    private const int StackLimit = 256;

    /// <summary>The reading id of entry <paramref name="sequence"/> of journal <paramref name="epoch"/> on <paramref name="gatewayId"/>.</summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms",
        Justification = "RFC 9562 defines version 5 UUIDs with SHA-1 as a name hash; nothing here depends on collision resistance against an attacker.")]
    public static Guid From(string gatewayId, long epoch, long sequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(gatewayId);

        var maxName = Encoding.UTF8.GetMaxByteCount(gatewayId.Length) + (2 * 20) + 2;
        var total = 16 + maxName;
        byte[]? rented = null;
        var buffer = total <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            Namespace.TryWriteBytes(buffer, bigEndian: true, out _);
            var length = 16 + Encoding.UTF8.GetBytes(gatewayId, buffer[16..]);
            length += WriteSegment(buffer[length..], epoch);
            length += WriteSegment(buffer[length..], sequence);

            Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
            SHA1.HashData(buffer[..length], hash);
            hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // variant 10xx (RFC 9562)
            return new Guid(hash[..16], bigEndian: true);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static int WriteSegment(Span<byte> destination, long value)
    {
        destination[0] = (byte)'/';
        value.TryFormat(destination[1..], out var written, default, CultureInfo.InvariantCulture);
        return written + 1;
    }
}
