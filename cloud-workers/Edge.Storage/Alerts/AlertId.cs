using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Edge.Storage.Alerts;

/// <summary>The permanent identity of an alert: a name-based UUID of the reading id and the rule, like <c>ReadingId</c>.</summary>
/// <remarks>
/// RFC 9562 version 5: SHA-1 over <see cref="Namespace"/> (16 bytes, network order) followed by the UTF-8 of
/// <c>{reading id, lower-case 8-4-4-4-12}/{rule}</c>, truncated to 16 bytes, version and variant bits set. One reading
/// raises a rule at most once, however often its batch is re-sent or by however many replicas, because the table keys
/// on this id with insert-if-absent. Changing the namespace or the name format would re-raise every alert: neither may change.
/// </remarks>
public static class AlertId
{
    /// <summary>
    /// <c>ddaabfb8-7441-5df8-ab8c-f9ef8a7acd22</c>: the v5 UUID of the RFC 9562 URL namespace and the name
    /// <c>urn:clinic-edge:alert-id:v1</c>, so anyone can re-derive it. Fixed forever.
    /// </summary>
    public static readonly Guid Namespace = new("ddaabfb8-7441-5df8-ab8c-f9ef8a7acd22");

    /// <summary>
    /// The id of an alert not raised by one reading: <paramref name="rule"/> about <paramref name="subject"/> (a serial or
    /// a gateway id) for <paramref name="period"/> (a due date, a UTC day, a silence episode's start), with the name
    /// <c>subject/{rule}/{subject}/{period}</c>. Every replica and every re-run of a sweep derives the same id, so the
    /// alert is raised once per period. The <c>subject/</c> prefix keeps these names apart from reading names, which
    /// start with a UUID.
    /// </summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms",
        Justification = "RFC 9562 defines version 5 UUIDs with SHA-1 as a name hash; nothing here depends on collision resistance against an attacker.")]
    public static Guid ForSubject(string rule, string subject, string period)
    {
        ArgumentException.ThrowIfNullOrEmpty(rule);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(period);
        var name = Encoding.UTF8.GetBytes($"subject/{rule}/{subject}/{period}");
        var buffer = new byte[16 + name.Length];
        Namespace.TryWriteBytes(buffer, bigEndian: true, out _);
        name.CopyTo(buffer, 16);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(buffer, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // variant 10xx (RFC 9562)
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>
    /// The id of the alert <paramref name="rule"/> raised by a reading: callers pass its content id (<c>AlertRules</c>),
    /// so a copy of the reading re-sent under another journal identity raises nothing twice, as the stores keep it once.
    /// </summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms",
        Justification = "RFC 9562 defines version 5 UUIDs with SHA-1 as a name hash; nothing here depends on collision resistance against an attacker.")]
    public static Guid From(Guid readingId, string rule)
    {
        ArgumentException.ThrowIfNullOrEmpty(rule);

        // 16 namespace bytes + 36 for the reading id + '/' + the rule; rule names are short ASCII.
        var total = 16 + 36 + 1 + Encoding.UTF8.GetMaxByteCount(rule.Length);
        byte[]? rented = null;
        var buffer = total <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            Namespace.TryWriteBytes(buffer, bigEndian: true, out _);
            Span<char> text = stackalloc char[36];
            readingId.TryFormat(text, out _, "D");
            var length = 16 + Encoding.UTF8.GetBytes(text, buffer[16..]);
            buffer[length++] = (byte)'/';
            length += Encoding.UTF8.GetBytes(rule, buffer[length..]);

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
}
