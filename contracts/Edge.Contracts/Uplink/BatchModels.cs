namespace Edge.Contracts.Uplink;

/// <summary>What a batch carries: whose journal, which lane, which sequence range.</summary>
/// <remarks>
/// Gateway id, epoch and sequence are each reading's permanent identity (see <c>Identity.ReadingId</c>); the range is
/// what the commit ack names, so the gateway knows which journal entries it may delete.
/// </remarks>
public sealed record BatchHeader(string GatewayId, long Epoch, string Lane, long FirstSequence, long LastSequence, int Count);

/// <summary>
/// One journaled reading in a batch: its sequence, the serial the device authenticated as on the gateway (so the
/// cloud checks the payload against that identity, not against the payload's own claim), when the gateway received
/// it, and the device's payload exactly as sent.
/// </summary>
public sealed record BatchReading(long Sequence, string Serial, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Payload);

/// <summary>The result of <see cref="BatchCodec.Encode"/>: the bytes to publish and the first <see cref="ReadingsTaken"/> readings they hold.</summary>
public sealed record EncodedBatch(byte[] Bytes, BatchHeader Header, int ReadingsTaken);

/// <summary>The result of <see cref="BatchCodec.Decode"/>: header and readings, each payload sliced out of the decoded body as embedded.</summary>
public sealed record DecodedBatch(BatchHeader Header, IReadOnlyList<BatchReading> Readings, BatchCompression Compression);
