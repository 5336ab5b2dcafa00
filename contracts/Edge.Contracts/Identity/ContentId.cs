using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Edge.Contracts.Identity;

/// <summary>
/// The identity of a reading's content: a UUID of the device serial and the payload bytes exactly as the device sent
/// them. A device's QoS 1 re-send is byte for byte the same message, so it has the same content id under whatever
/// journal identity (<see cref="ReadingId"/>) the gateway gave it; stores keep it unique so a reading is stored once.
/// </summary>
/// <remarks>
/// RFC 9562 version 8 (custom): SHA-256 over <see cref="Namespace"/> (16 bytes, network order), the UTF-8 of the serial,
/// one zero byte, then the payload bytes; the first 16 bytes of the hash, version and variant bits set. The payload
/// embeds the device's timestamp and values, so two different readings differ in their bytes. The bytes are hashed as
/// sent, not a parsed or re-formatted form: nothing is parsed twice, and no change to a parser can re-key readings. A
/// device that sends the very same bytes twice sent the same reading twice (the agent's duplicate filter already held
/// that rule). SHA-256 rather than <see cref="ReadingId"/>'s SHA-1 because a device chooses these bytes: with SHA-1, a
/// device could craft two colliding readings and have one dropped as a duplicate. The zero byte cannot occur in a serial
/// (<see cref="Devices.SerialNumber"/>), so serial and payload always split unambiguously.
/// Changing the namespace or the name format re-keys every reading stored since: neither may change.
/// </remarks>
public static class ContentId
{
    /// <summary>
    /// <c>3da25b66-51af-5043-867e-4af8ce8dd34e</c>: the v5 UUID of the RFC 9562 URL namespace and the name
    /// <c>urn:clinic-edge:content-id:v1</c>, so anyone can re-derive it. Fixed forever.
    /// </summary>
    public static readonly Guid Namespace = new("3da25b66-51af-5043-867e-4af8ce8dd34e");

    private const int StackLimit = 1024;

    /// <summary>The content id of <paramref name="payload"/> as device <paramref name="serial"/> sent it.</summary>
    public static Guid From(string serial, ReadOnlySpan<byte> payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(serial);

        var total = 16 + Encoding.UTF8.GetMaxByteCount(serial.Length) + 1 + payload.Length;
        byte[]? rented = null;
        var buffer = total <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            Namespace.TryWriteBytes(buffer, bigEndian: true, out _);
            var length = 16 + Encoding.UTF8.GetBytes(serial, buffer[16..]);
            buffer[length++] = 0;
            payload.CopyTo(buffer[length..]);
            length += payload.Length;

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], hash);
            hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
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
}
