using System.Buffers.Binary;
using System.Text;
using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>One reading as a segment holds it: its sequence, serial, device and gateway times, and the raw payload.</summary>
internal sealed record SegmentEntry(long Sequence, string Serial, long DeviceTicks, long ReceivedTicks, byte[] Payload);

/// <summary>
/// The segment document: <c>{ _id: first sequence, l: last sequence, r: first received-at ticks, b: packed entries,
/// st: journal counters (optional) }</c>.
/// Segments never overlap, so the one holding a sequence is the last whose <c>_id</c> is at or below it.
/// </summary>
/// <remarks>
/// <para>
/// The entries are packed into one binary field rather than stored as a BSON array of sub-documents: LiteDB decodes
/// a sub-document field by field (a string allocated for every key), which made reading a 2,000-reading batch for the
/// uplink cost more CPU than everything else in the agent together (docs/performance.md). A binary field is one copy.
/// </para>
/// <para>
/// Per entry, little-endian: int64 sequence, int64 device time ticks, int64 received-at ticks, uint16 serial length,
/// serial (UTF-8), int32 payload length, payload. Journals written before this layout hold <c>e</c>, an array of
/// <c>{ q, s, t, r, p }</c> documents; they are read as they are and rewritten in the packed form when next changed.
/// </para>
/// </remarks>
internal static class Segment
{
    private const int FixedEntryBytes = 8 + 8 + 8 + 2 + 4;

    /// <summary>A new segment's document, or (with <paramref name="id"/>) the rewrite of a segment some entries left.</summary>
    /// <param name="entries">The entries in sequence order, at least one.</param>
    /// <param name="id">The segment's <c>_id</c> when rewriting: it stays, even when its first entries were removed.</param>
    /// <param name="counters">The journal's counters after the commit that writes this segment (see <see cref="Counters"/>).</param>
    public static BsonDocument ToDocument(IReadOnlyList<SegmentEntry> entries, long? id = null, BsonDocument? counters = null)
    {
        var doc = new BsonDocument
        {
            ["_id"] = id ?? entries[0].Sequence,
            ["l"] = entries[^1].Sequence,
            ["r"] = entries[0].ReceivedTicks,
            ["b"] = Pack(entries),
        };
        if (counters is not null)
        {
            doc["st"] = counters;
        }

        return doc;
    }

    /// <summary>
    /// The journal counters a commit of readings stored in its last segment instead of the meta document, or null.
    /// A rewrite drops them: rewrites happen in commits that write the meta document.
    /// </summary>
    public static BsonDocument? Counters(BsonDocument segment) => segment.TryGetValue("st", out var counters) ? counters.AsDocument : null;

    /// <summary>The segment's key: its first sequence when written; kept when a rewrite removed its first entries.</summary>
    public static long Id(BsonDocument segment) => segment["_id"].AsInt64;

    public static long LastSequence(BsonDocument segment) => segment["l"].AsInt64;

    /// <summary>When the segment's first (oldest) reading reached the gateway.</summary>
    public static long FirstReceivedTicks(BsonDocument segment) =>
        segment.TryGetValue("r", out var ticks) ? ticks.AsInt64 : segment["e"].AsArray[0]["r"].AsInt64;

    /// <summary>The segment's entries in sequence order, in either layout.</summary>
    public static List<SegmentEntry> Entries(BsonDocument segment)
    {
        if (segment.TryGetValue("b", out var packed))
        {
            return Unpack(packed.AsBinary);
        }

        // The layout before packing: journals written by earlier releases are read as they are.
        var legacy = segment["e"].AsArray;
        var entries = new List<SegmentEntry>(legacy.Count);
        foreach (var value in legacy)
        {
            var e = value.AsDocument;
            entries.Add(new SegmentEntry(e["q"].AsInt64, e["s"].AsString, e["t"].AsInt64, e["r"].AsInt64, e["p"].AsBinary));
        }

        return entries;
    }

    private static byte[] Pack(IReadOnlyList<SegmentEntry> entries)
    {
        var length = 0;
        foreach (var entry in entries)
        {
            length += FixedEntryBytes + Encoding.UTF8.GetByteCount(entry.Serial) + entry.Payload.Length;
        }

        var packed = new byte[length];
        var span = packed.AsSpan();
        foreach (var entry in entries)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span, entry.Sequence);
            BinaryPrimitives.WriteInt64LittleEndian(span[8..], entry.DeviceTicks);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], entry.ReceivedTicks);
            var serialBytes = Encoding.UTF8.GetBytes(entry.Serial, span[26..]);
            BinaryPrimitives.WriteUInt16LittleEndian(span[24..], checked((ushort)serialBytes));
            span = span[(26 + serialBytes)..];
            BinaryPrimitives.WriteInt32LittleEndian(span, entry.Payload.Length);
            entry.Payload.CopyTo(span[4..]);
            span = span[(4 + entry.Payload.Length)..];
        }

        return packed;
    }

    private static List<SegmentEntry> Unpack(byte[] packed)
    {
        var entries = new List<SegmentEntry>();
        var span = packed.AsSpan();
        while (!span.IsEmpty)
        {
            if (span.Length < FixedEntryBytes)
            {
                throw new InvalidDataException("A journal segment ends inside an entry.");
            }

            var sequence = BinaryPrimitives.ReadInt64LittleEndian(span);
            var deviceTicks = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
            var receivedTicks = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
            int serialBytes = BinaryPrimitives.ReadUInt16LittleEndian(span[24..]);
            var serial = Encoding.UTF8.GetString(span.Slice(26, serialBytes));
            span = span[(26 + serialBytes)..];
            var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(span);
            if (payloadLength < 0 || payloadLength > span.Length - 4)
            {
                throw new InvalidDataException("A journal segment entry claims more payload than the segment holds.");
            }

            entries.Add(new SegmentEntry(sequence, serial, deviceTicks, receivedTicks, span.Slice(4, payloadLength).ToArray()));
            span = span[(4 + payloadLength)..];
        }

        return entries;
    }
}
