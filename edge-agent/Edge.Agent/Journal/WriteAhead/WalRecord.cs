using System.Buffers.Binary;
using System.Text;

namespace Edge.Agent.Journal.WriteAhead;

/// <summary>What a write-ahead record re-applies to LiteDB at start-up.</summary>
internal enum WalRecordKind : byte
{
    /// <summary>A reading acknowledged to its device: lane, sequence, serial, device and received ticks, payload.</summary>
    Append = 1,

    /// <summary>An ack from the cloud: a lane's sequences [first, last] removed.</summary>
    DeleteRange = 2,

    /// <summary>The uplink's published mark of a lane raised.</summary>
    Published = 3,
}

/// <summary>One change the write-ahead log carries: a reading appended, a range acked, or a published mark.</summary>
internal readonly record struct WalRecord(WalRecordKind Kind, Lane Lane, long First, long Last, SegmentEntry? Entry)
{
    private const int AppendFixedBytes = 1 + 8 + 8 + 8 + 2 + 4;
    private const int RangeBytes = 1 + 8 + 8;

    public static WalRecord Appended(Lane lane, SegmentEntry entry) => new(WalRecordKind.Append, lane, entry.Sequence, entry.Sequence, entry);

    public static WalRecord Deleted(Lane lane, long first, long last) => new(WalRecordKind.DeleteRange, lane, first, last, null);

    public static WalRecord MarkedPublished(Lane lane, long last) => new(WalRecordKind.Published, lane, last, last, null);

    public int BodyLength => Kind == WalRecordKind.Append
        ? AppendFixedBytes + Encoding.UTF8.GetByteCount(Entry!.Serial) + Entry.Payload.Length
        : RangeBytes;

    public void WriteBody(Span<byte> body)
    {
        body[0] = (byte)Lane;
        if (Kind != WalRecordKind.Append)
        {
            BinaryPrimitives.WriteInt64LittleEndian(body[1..], First);
            BinaryPrimitives.WriteInt64LittleEndian(body[9..], Last);
            return;
        }

        var entry = Entry!;
        BinaryPrimitives.WriteInt64LittleEndian(body[1..], entry.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(body[9..], entry.DeviceTicks);
        BinaryPrimitives.WriteInt64LittleEndian(body[17..], entry.ReceivedTicks);
        var serialBytes = Encoding.UTF8.GetBytes(entry.Serial, body[27..]);
        BinaryPrimitives.WriteUInt16LittleEndian(body[25..], checked((ushort)serialBytes));
        var rest = body[(27 + serialBytes)..];
        BinaryPrimitives.WriteInt32LittleEndian(rest, entry.Payload.Length);
        entry.Payload.CopyTo(rest[4..]);
    }

    /// <summary>Decodes a body whose CRC already matched; null if it does not hold what its kind says.</summary>
    public static WalRecord? ReadBody(WalRecordKind kind, ReadOnlySpan<byte> body)
    {
        if (body.Length < 1 || body[0] > (byte)Lane.Routine)
        {
            return null;
        }

        var lane = (Lane)body[0];
        switch (kind)
        {
            case WalRecordKind.DeleteRange or WalRecordKind.Published when body.Length == RangeBytes:
                return new WalRecord(kind, lane, BinaryPrimitives.ReadInt64LittleEndian(body[1..]), BinaryPrimitives.ReadInt64LittleEndian(body[9..]), null);
            case WalRecordKind.Append when body.Length >= AppendFixedBytes:
                var sequence = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                var deviceTicks = BinaryPrimitives.ReadInt64LittleEndian(body[9..]);
                var receivedTicks = BinaryPrimitives.ReadInt64LittleEndian(body[17..]);
                int serialBytes = BinaryPrimitives.ReadUInt16LittleEndian(body[25..]);
                if (27 + serialBytes + 4 > body.Length)
                {
                    return null;
                }

                var serial = Encoding.UTF8.GetString(body.Slice(27, serialBytes));
                var rest = body[(27 + serialBytes)..];
                var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(rest);
                if (payloadLength != rest.Length - 4)
                {
                    return null;
                }

                return Appended(lane, new SegmentEntry(sequence, serial, deviceTicks, receivedTicks, rest[4..].ToArray()));
            default:
                return null;
        }
    }
}
