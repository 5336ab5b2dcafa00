using System.IO.Compression;

namespace Edge.Contracts.Uplink;

/// <summary>
/// Encodes journaled readings into the compressed batches a gateway publishes on <c>edge/v1/{gatewayId}/telemetry</c>,
/// and decodes them in the cloud. Layout, limits and the measurements behind the defaults: docs/uplink.md.
/// </summary>
/// <remarks>
/// Wire format: <c>"EDGB"</c>, one byte format version (1), one byte <see cref="BatchCompression"/>, then the compressed
/// UTF-8 JSON body
/// <c>{"v":1,"gateway":…,"epoch":…,"lane":…,"first":…,"last":…,"count":…,"readings":[{"q":seq,"s":"serial","r":"RFC 3339","p":payload},…]}</c>,
/// where each <c>p</c> is the device's payload embedded verbatim (never re-serialized), so the cloud validates exactly
/// what the device sent.
/// </remarks>
public static class BatchCodec
{
    /// <summary>The envelope's format version byte and the body's <c>"v"</c>.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Magic (4) + version (1) + compression (1).</summary>
    public const int EnvelopeBytes = 6;

    /// <summary>
    /// A wire size that fits AWS IoT Core's 128 KB message limit whether "KB" is read as 128,000 or 131,072 bytes,
    /// leaving 1 KB for the topic and MQTT 5 properties.
    /// </summary>
    public const int DefaultMaxWireBytes = 124 * 1024;

    /// <summary>
    /// The most one reading adds to its payload in a batch of its own: envelope, header with the longest gateway id and
    /// sequences, the reading's wrapper, and compression's worst case on incompressible data. A payload of P bytes
    /// always fits a wire limit of P + this.
    /// </summary>
    public const int MaxOneReadingOverheadBytes = 1024;

    /// <summary>The decoded body size a worker accepts by default; the encoder never writes a larger body.</summary>
    public const int DefaultMaxDecompressedBytes = 16 * 1024 * 1024;

    /// <summary>The compression <see cref="Encode"/> uses unless told otherwise: chosen by measurement (docs/uplink.md).</summary>
    public const BatchCompression DefaultCompression = BatchCompression.Brotli;

    /// <summary>Brotli quality for <see cref="BatchCompression.Brotli"/> (0-11): bytes per reading decide the uplink's limit (docs/uplink.md).</summary>
    public const int BrotliQuality = 5;

    /// <summary>Brotli window, log2 bytes: 4 MiB, more than any batch body that fits the wire limit.</summary>
    public const int BrotliWindow = 22;

    /// <summary>Level for <see cref="BatchCompression.Gzip"/>.</summary>
    public const CompressionLevel GzipLevel = CompressionLevel.Optimal;

    /// <summary>The envelope's first four bytes.</summary>
    internal static ReadOnlySpan<byte> Magic => "EDGB"u8;

    /// <summary>
    /// Takes as many readings from the start of <paramref name="readings"/> as fit in <paramref name="maxWireBytes"/>
    /// (envelope included, after compression) and encodes them as one batch.
    /// </summary>
    /// <param name="gatewayId">The gateway whose journal the readings come from (<c>^[A-Za-z0-9_-]{1,64}$</c>).</param>
    /// <param name="epoch">The journal's epoch: with the gateway id and a sequence, a reading's permanent identity.</param>
    /// <param name="lane"><see cref="BatchLanes.Urgent"/> or <see cref="BatchLanes.Routine"/>; a batch holds one lane.</param>
    /// <param name="readings">Journal entries of that lane in ascending sequence order; each payload must be one JSON value.</param>
    /// <param name="maxWireBytes">The largest message the uplink may publish, e.g. <see cref="DefaultMaxWireBytes"/>.</param>
    /// <param name="compression">How to compress the body; the default is the measured best (docs/uplink.md).</param>
    /// <returns>The bytes to publish, their header, and how many readings they hold (at least one).</returns>
    /// <exception cref="ReadingTooLargeException">The first reading alone does not fit.</exception>
    /// <exception cref="ArgumentException">A bad gateway id or lane, no readings, sequences out of order, or a payload that is not JSON.</exception>
    public static EncodedBatch Encode(
        string gatewayId,
        long epoch,
        string lane,
        IReadOnlyList<BatchReading> readings,
        int maxWireBytes,
        BatchCompression compression = DefaultCompression)
    {
        if (!UplinkTopics.IsValidGatewayId(gatewayId))
        {
            throw new ArgumentException($"'{gatewayId}' is not a gateway id: use 1-64 letters, digits, '-' or '_'", nameof(gatewayId));
        }

        if (!BatchLanes.IsKnown(lane))
        {
            throw new ArgumentException($"'{lane}' is not a lane: use \"{BatchLanes.Urgent}\" or \"{BatchLanes.Routine}\"", nameof(lane));
        }

        ArgumentNullException.ThrowIfNull(readings);
        if (readings.Count == 0)
        {
            throw new ArgumentException("A batch needs at least one reading.", nameof(readings));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxWireBytes, EnvelopeBytes);
        if (compression is not (BatchCompression.None or BatchCompression.Gzip or BatchCompression.Brotli))
        {
            throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown compression");
        }

        using var encoder = new BatchEncoder(gatewayId, epoch, lane, readings, compression);
        return encoder.Encode(maxWireBytes);
    }

    /// <summary>
    /// Decodes a batch and checks it: envelope, decompressed size, JSON shape, gateway id, lane, and that count,
    /// first and last match readings in strictly ascending sequence order. Each reading's payload is the exact JSON
    /// text embedded in the body, ready for <c>PayloadValidator.ValidateTelemetry</c>.
    /// </summary>
    /// <param name="wire">One received MQTT message payload.</param>
    /// <param name="maxDecompressedBytes">The largest body to decompress; a larger one is refused as it is reached.</param>
    /// <exception cref="BatchFormatException">The message is not a valid v1 batch; the reason names what is wrong.</exception>
    public static DecodedBatch Decode(ReadOnlyMemory<byte> wire, int maxDecompressedBytes = DefaultMaxDecompressedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDecompressedBytes, 1);
        var span = wire.Span;
        if (span.Length < EnvelopeBytes)
        {
            throw new BatchFormatException($"the message is {span.Length} bytes, shorter than the {EnvelopeBytes}-byte envelope");
        }

        if (!span[..4].SequenceEqual(Magic))
        {
            throw new BatchFormatException($"bad magic 0x{Convert.ToHexString(span[..4])}: a batch starts with 'EDGB'");
        }

        if (span[4] != FormatVersion)
        {
            throw new BatchFormatException($"unsupported format version {span[4]}: this reader knows version {FormatVersion}");
        }

        var compression = (BatchCompression)span[5];
        var compressed = wire[EnvelopeBytes..];
        var body = compression switch
        {
            BatchCompression.None => BatchDecompression.Uncompressed(compressed.Span, maxDecompressedBytes),
            BatchCompression.Gzip => BatchDecompression.Gunzip(compressed, maxDecompressedBytes),
            BatchCompression.Brotli => BatchDecompression.Unbrotli(compressed.Span, maxDecompressedBytes),
            _ => throw new BatchFormatException($"unknown compression {span[5]}: expected 0 (none), 1 (gzip) or 2 (brotli)"),
        };
        return BatchBodyReader.Parse(body, compression);
    }
}
