using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Edge.Storage.Queries;

/// <summary>
/// A keyset position in a device's readings: the last row's (device time, gateway received time, journal epoch, journal
/// sequence, id), the order pages come in. Travels through the API as an opaque, URL-safe token (<see cref="Encode"/>,
/// <see cref="TryParse"/>).
/// </summary>
/// <remarks>
/// <para>
/// Readings with the same device time come back in the order their gateway received them (its receive time, then its
/// journal's epoch and sequence, which count up as it journals), not in the order of their ids, which are hashes. The id
/// comes last only to make the key unique (two gateways receiving at the same microsecond).
/// </para>
/// <para>
/// The token is base64url, without padding, of 53 bytes: version 2, the device time and the received time in UTC ticks,
/// the epoch and the sequence (each int64 big-endian), the id (16 bytes, RFC 9562 byte order) and the first 4 bytes of the
/// SHA-256 of those 49. The check catches a token that was cut short or mistyped; it is not a signature, and need not
/// be: a cursor only says where to start, the serial and the time range still come from the request. Version 1 tokens
/// (device time, id) from before arrival order are refused with a reason: the client starts its listing again.
/// </para>
/// </remarks>
public sealed record TelemetryCursor(DateTimeOffset DeviceTime, DateTimeOffset ReceivedAt, long Epoch, long Sequence, Guid Id)
{
    private const byte Version = 2;
    private const int PayloadLength = 1 + 8 + 8 + 8 + 8 + 16;
    private const int CheckLength = 4;
    private const int ByteLength = PayloadLength + CheckLength;

    /// <summary>The length of an encoded cursor in characters.</summary>
    public const int EncodedLength = (ByteLength * 8 + 5) / 6;

    /// <summary>The opaque token for the API's <c>cursor</c> parameter.</summary>
    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], DeviceTime.UtcTicks);
        BinaryPrimitives.WriteInt64BigEndian(bytes[9..], ReceivedAt.UtcTicks);
        BinaryPrimitives.WriteInt64BigEndian(bytes[17..], Epoch);
        BinaryPrimitives.WriteInt64BigEndian(bytes[25..], Sequence);
        Id.TryWriteBytes(bytes[33..], bigEndian: true, out _);
        Check(bytes[..PayloadLength], bytes[PayloadLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <inheritdoc cref="Encode"/>
    public override string ToString() => Encode();

    /// <summary>
    /// Reads a token made by <see cref="Encode"/>. A token that is empty, cut short, mistyped or edited gives false and a
    /// <paramref name="reason"/> fit for a 400 answer (it never quotes the token); on success the reason is empty.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out TelemetryCursor? cursor, out string reason)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text))
        {
            reason = "cursor is empty; pass the next cursor exactly as a previous page returned it";
            return false;
        }
        if (text.Length != EncodedLength)
        {
            reason = $"cursor has {text.Length} characters, a valid one has {EncodedLength}; pass it exactly as a previous page returned it";
            return false;
        }
        for (var i = 0; i < text.Length; i++)
        {
            // Checked here because the decoder skips whitespace, and a token with spaces in it is not one we made.
            if (!char.IsAsciiLetterOrDigit(text[i]) && text[i] is not '-' and not '_')
            {
                reason = $"cursor has a character at position {i + 1} that is not base64url (A-Z, a-z, 0-9, '-', '_')";
                return false;
            }
        }

        Span<byte> bytes = stackalloc byte[ByteLength];
        Span<char> canonical = stackalloc char[EncodedLength];
        // The last character carries 2 bits no byte uses; a token that sets them decodes the same but is not one we made.
        // The OperationStatus overload: TryDecodeFromChars throws FormatException on malformed input.
        if (Base64Url.DecodeFromChars(text, bytes, out _, out var written) != OperationStatus.Done || written != ByteLength
            || !Base64Url.TryEncodeToChars(bytes, canonical, out _) || !canonical.SequenceEqual(text))
        {
            reason = "cursor is not a valid base64url token; pass it exactly as a previous page returned it";
            return false;
        }
        if (bytes[0] != Version)
        {
            reason = $"cursor version {bytes[0]} is not one this server reads (version {Version}); start the listing again without a cursor";
            return false;
        }
        Span<byte> check = stackalloc byte[CheckLength];
        Check(bytes[..PayloadLength], check);
        if (!check.SequenceEqual(bytes[PayloadLength..]))
        {
            reason = "cursor is damaged (its check does not match); pass it exactly as a previous page returned it";
            return false;
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var received = BinaryPrimitives.ReadInt64BigEndian(bytes[9..]);
        if (!InRange(ticks) || !InRange(received))
        {
            reason = "cursor holds a time out of range";
            return false;
        }

        cursor = new TelemetryCursor(
            new DateTimeOffset(ticks, TimeSpan.Zero), new DateTimeOffset(received, TimeSpan.Zero),
            BinaryPrimitives.ReadInt64BigEndian(bytes[17..]), BinaryPrimitives.ReadInt64BigEndian(bytes[25..]),
            new Guid(bytes.Slice(33, 16), bigEndian: true));
        reason = string.Empty;
        return true;
    }

    private static bool InRange(long ticks) => ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks;

    private static void Check(ReadOnlySpan<byte> payload, Span<byte> check)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        hash[..CheckLength].CopyTo(check);
    }
}
