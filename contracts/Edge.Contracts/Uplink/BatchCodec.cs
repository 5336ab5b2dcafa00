using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using Edge.Contracts.Payloads;

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

    // Compressions Encode spends searching for the largest prefix that fits; past it, the best fit found is taken.
    private const int MaxCompressions = 8;

    // The first attempt compresses a body this many times the wire room: all of a small batch, or a cheap sample of a
    // long backlog whose ratio predicts how much of it fits. (Brotli costs about twice as much per byte on a 1 MB body
    // as on 100 KB, so a generous first guess at a backlog costs more than the sample.)
    private const int FirstAttemptFactor = 2;

    // A batch within this share of the limit is full enough: another compression of the whole body to gain the last
    // percent costs more CPU than the percent saves in messages.
    private const double FullEnough = 0.02;

    // Payloads arrive at most 16 deep (PayloadLimits) and batches add 3 levels; the reader is iterative, so this only
    // bounds its small depth stack.
    private const int MaxJsonDepth = 1024;

    // Echoed text from a hostile batch stays short in logs.
    private const int MaxQuoted = 40;

    private static ReadOnlySpan<byte> Magic => "EDGB"u8;

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

        using var encoder = new Encoder(gatewayId, epoch, lane, readings, compression);
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
            BatchCompression.None => Uncompressed(compressed.Span, maxDecompressedBytes),
            BatchCompression.Gzip => Gunzip(compressed, maxDecompressedBytes),
            BatchCompression.Brotli => Unbrotli(compressed.Span, maxDecompressedBytes),
            _ => throw new BatchFormatException($"unknown compression {span[5]}: expected 0 (none), 1 (gzip) or 2 (brotli)"),
        };
        return Body.Parse(body, compression);
    }

    private static byte[] Uncompressed(ReadOnlySpan<byte> body, int limit) =>
        body.Length <= limit ? body.ToArray() : throw TooBig(limit);

    private static byte[] Gunzip(ReadOnlyMemory<byte> compressed, int limit)
    {
        var segment = MemoryMarshal.TryGetArray(compressed, out var array) ? array : new ArraySegment<byte>(compressed.ToArray());
        using var source = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        using var gzip = new GZipStream(source, CompressionMode.Decompress);
        using var output = new PooledBuffer(InitialOutput(compressed.Length, limit));
        try
        {
            while (true)
            {
                var free = output.GetSpanWithin(limit);
                if (free.IsEmpty)
                {
                    // Full at the limit: one more byte means the body is too big; none means it is exactly the limit.
                    Span<byte> probe = stackalloc byte[1];
                    return gzip.Read(probe) == 0 ? CheckGzipLength(compressed.Span, output) : throw TooBig(limit);
                }

                var read = gzip.Read(free);
                if (read == 0)
                {
                    return CheckGzipLength(compressed.Span, output);
                }

                output.Advance(read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new BatchFormatException($"the gzip data is corrupt ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// GZipStream ends quietly when the 8-byte trailer (CRC-32, length) is cut off, so a truncated message could pass
    /// for a whole one. The trailer's length must match what came out; the CRC it checks itself when it is there.
    /// </summary>
    private static byte[] CheckGzipLength(ReadOnlySpan<byte> compressed, PooledBuffer output) =>
        compressed.Length >= 18 && BinaryPrimitives.ReadUInt32LittleEndian(compressed[^4..]) == (uint)output.WrittenCount
            ? output.ToArray()
            : throw new BatchFormatException("the gzip stream is truncated (its trailer does not match the data)");

    private static byte[] Unbrotli(ReadOnlySpan<byte> compressed, int limit)
    {
        using var output = new PooledBuffer(InitialOutput(compressed.Length, limit));
        // Not a using declaration: BrotliDecoder is a mutable struct, and a read-only local would be copied on every call.
        var decoder = new BrotliDecoder();
        try
        {
            while (true)
            {
                var status = decoder.Decompress(compressed, output.GetSpanWithin(limit), out var consumed, out var written);
                compressed = compressed[consumed..];
                output.Advance(written);
                switch (status)
                {
                    case OperationStatus.Done:
                        return compressed.IsEmpty
                            ? output.ToArray()
                            : throw new BatchFormatException($"{compressed.Length} bytes follow the end of the brotli stream");
                    case OperationStatus.DestinationTooSmall:
                        // More output than room: at the limit that is a body too big (a decompression bomb stops here).
                        if (output.WrittenCount >= limit || (written == 0 && !output.TryGrowWithin(limit)))
                        {
                            throw TooBig(limit);
                        }

                        break;
                    case OperationStatus.NeedMoreData:
                        throw new BatchFormatException("the brotli stream is truncated");
                    default:
                        throw new BatchFormatException("the brotli data is corrupt");
                }
            }
        }
        finally
        {
            decoder.Dispose();
        }
    }

    // Batches compress about 10x; start there and let the buffer double, never past the limit.
    private static int InitialOutput(int compressedLength, int limit) => (int)Math.Min(limit, Math.Max(4096L, compressedLength * 12L));

    private static BatchFormatException TooBig(int limit) =>
        new($"the decompressed body is larger than the {limit} bytes allowed");

    private static string Quote(string text) => text.Length <= MaxQuoted ? text : string.Concat(text.AsSpan(0, MaxQuoted), "…");

    /// <summary>One Encode call: the readings serialized once, then the prefix search over compressed sizes.</summary>
    private sealed class Encoder : IDisposable
    {
        private readonly string _gatewayId;
        private readonly long _epoch;
        private readonly string _lane;
        private readonly IReadOnlyList<BatchReading> _readings;
        private readonly BatchCompression _compression;

        // "[" followed by the serialized readings, comma-separated; _ends[i] is the offset just past reading i.
        private readonly PooledBuffer _items = new(16 * 1024);
        private readonly Utf8JsonWriter _itemWriter;
        private int[] _ends = ArrayPool<int>.Shared.Rent(1024);
        private int _serialized;

        private readonly PooledBuffer _header = new(256);
        private readonly Utf8JsonWriter _headerWriter;
        private readonly PooledBuffer _body = new(64 * 1024);
        private PooledBuffer _best = new(64 * 1024);
        private PooledBuffer _scratch = new(64 * 1024);

        public Encoder(string gatewayId, long epoch, string lane, IReadOnlyList<BatchReading> readings, BatchCompression compression)
        {
            _gatewayId = gatewayId;
            _epoch = epoch;
            _lane = lane;
            _readings = readings;
            _compression = compression;
            _itemWriter = new Utf8JsonWriter(_items);
            _itemWriter.WriteStartArray();
            _itemWriter.Flush();
            _headerWriter = new Utf8JsonWriter(_header);
        }

        public EncodedBatch Encode(int maxWireBytes)
        {
            var room = maxWireBytes - EnvelopeBytes;
            if (_compression == BatchCompression.None)
            {
                // Uncompressed sizes are known exactly: no search.
                var fits = LargestWithin(Math.Min(room, DefaultMaxDecompressedBytes), _readings.Count);
                if (fits == 0)
                {
                    throw new ReadingTooLargeException(_readings[0].Sequence, EnvelopeBytes + (int)Math.Min(RawSize(1), int.MaxValue), maxWireBytes);
                }

                Compress(fits, _best);
                return Result(fits);
            }

            var n = LargestWithin(Math.Min((long)room * FirstAttemptFactor, DefaultMaxDecompressedBytes), _readings.Count);
            if (n == 0)
            {
                // The first reading alone is more than the first attempt's budget; compressed, it may still fit.
                if (RawSize(1) > DefaultMaxDecompressedBytes)
                {
                    throw new ReadingTooLargeException(_readings[0].Sequence, EnvelopeBytes + (int)Math.Min(RawSize(1), int.MaxValue), maxWireBytes);
                }

                n = 1;
            }

            // lo: the largest count known to fit; hi: the smallest known not to (0 = none yet). Sizes are wire bytes.
            int lo = 0, hi = 0, loWire = 0, hiWire = 0;
            long loRaw = 0, hiRaw = 0;
            for (var attempt = 1; ; attempt++)
            {
                var wire = Compress(n, _scratch);
                if (wire <= maxWireBytes)
                {
                    (lo, loWire, loRaw) = (n, wire, RawSize(n));
                    (_best, _scratch) = (_scratch, _best);
                }
                else
                {
                    (hi, hiWire, hiRaw) = (n, wire, RawSize(n));
                    if (hi == 1)
                    {
                        throw new ReadingTooLargeException(_readings[0].Sequence, wire, maxWireBytes);
                    }
                }

                if (lo > 0 && (hi == lo + 1 || attempt >= MaxCompressions || IsFull(lo, loWire, maxWireBytes)))
                {
                    return Result(lo);
                }

                n = NextGuess(lo, hi, loWire, hiWire, loRaw, hiRaw, maxWireBytes);
                if (n <= lo)
                {
                    // At the ratio just measured, one more reading would not fit.
                    return Result(lo);
                }
            }
        }

        public void Dispose()
        {
            _itemWriter.Dispose();
            _headerWriter.Dispose();
            _items.Dispose();
            _header.Dispose();
            _body.Dispose();
            _best.Dispose();
            _scratch.Dispose();
            ArrayPool<int>.Shared.Return(_ends);
            _ends = [];
        }

        private bool IsFull(int lo, int loWire, int maxWireBytes)
        {
            // Nothing left to add: every reading is in, or one more would make a body decoders refuse.
            if (lo == _readings.Count || RawSize(lo + 1) > DefaultMaxDecompressedBytes)
            {
                return true;
            }

            var perReading = (double)(loWire - EnvelopeBytes) / lo;
            return maxWireBytes - loWire <= Math.Max(2 * perReading, (maxWireBytes - EnvelopeBytes) * FullEnough);
        }

        /// <summary>The next count to try; for growth it may be <paramref name="lo"/> itself, meaning "no more fits".</summary>
        private int NextGuess(int lo, int hi, int loWire, int hiWire, long loRaw, long hiRaw, int maxWireBytes)
        {
            var room = maxWireBytes - EnvelopeBytes;
            if (lo == 0)
            {
                // Only failures so far: scale down by the last one's ratio, aiming a little low so the next try fits.
                var target = room * ((double)hiRaw / (hiWire - EnvelopeBytes)) * 0.98;
                return Math.Max(1, LargestWithin((long)target, hi - 1));
            }

            if (hi == 0)
            {
                // Only fits so far: grow to what the last fit's ratio says the room holds, aiming a hair low so that the
                // try lands inside the "full enough" band rather than just over the limit; capped by what decoders accept.
                var target = Math.Min(room * ((double)loRaw / (loWire - EnvelopeBytes)) * 0.995, DefaultMaxDecompressedBytes);
                return LargestWithin((long)target, _readings.Count);
            }

            // Both sides known: interpolate; compressed size grows nearly linearly with the body.
            var fraction = (double)(maxWireBytes - loWire) / (hiWire - loWire);
            var between = loRaw + ((hiRaw - loRaw) * fraction);
            return Math.Clamp(LargestWithin((long)between, hi - 1), lo + 1, hi - 1);
        }

        /// <summary>The largest n ≤ <paramref name="upper"/> whose uncompressed body is at most <paramref name="budget"/> bytes; 0 if none.</summary>
        private int LargestWithin(long budget, int upper)
        {
            upper = Math.Min(upper, _readings.Count);
            // Serialize only as far as the budget reaches (a long backlog is never serialized whole).
            while (_serialized < upper && (_serialized == 0 || _ends[_serialized - 1] < budget))
            {
                Serialize(_serialized);
            }

            int lo = 0, hi = Math.Min(upper, _serialized);
            while (lo < hi)
            {
                var mid = lo + ((hi - lo + 1) / 2);
                if (RawSize(mid) <= budget)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return lo;
        }

        private void Serialize(int index)
        {
            var reading = _readings[index];
            if (index > 0 && reading.Sequence <= _readings[index - 1].Sequence)
            {
                throw new ArgumentException(
                    $"Readings must be in ascending sequence order: {reading.Sequence} follows {_readings[index - 1].Sequence}.");
            }

            var receivedAt = reading.ReceivedAt.ToUniversalTime();
            if (receivedAt.Year is < 2 or > 9998)
            {
                throw new ArgumentException($"Reading {reading.Sequence}: received at {receivedAt:O}, outside years 2-9998.");
            }

            var writer = _itemWriter;
            writer.WriteStartObject();
            writer.WriteNumber("q"u8, reading.Sequence);
            writer.WriteString("s"u8, reading.Serial);
            Span<byte> time = stackalloc byte[WireTime.MaxTimestampBytes];
            writer.WriteString("r"u8, time[..WireTime.FormatTimestamp(receivedAt, time)]);
            writer.WritePropertyName("p"u8);
            try
            {
                // Validated, not trusted: a payload that is not exactly one JSON value would make the whole batch unreadable.
                writer.WriteRawValue(TrimJsonWhitespace(reading.Payload.Span), skipInputValidation: false);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException)
            {
                throw new ArgumentException($"Reading {reading.Sequence}: the payload is not one JSON value ({ex.Message})", ex);
            }

            writer.WriteEndObject();
            writer.Flush();
            if (index == _ends.Length)
            {
                var bigger = ArrayPool<int>.Shared.Rent(_ends.Length * 2);
                _ends.AsSpan().CopyTo(bigger);
                ArrayPool<int>.Shared.Return(_ends);
                _ends = bigger;
            }

            _ends[index] = _items.WrittenCount;
            _serialized = index + 1;
        }

        /// <summary>The uncompressed body size for the first <paramref name="count"/> readings.</summary>
        private long RawSize(int count)
        {
            _header.Clear();
            return WriteHeader(count, _header) + (long)ItemsEnd(count) + 2;
        }

        /// <summary>The length of <c>[</c> and the first <paramref name="count"/> serialized readings, serializing them if needed.</summary>
        private int ItemsEnd(int count)
        {
            while (_serialized < count)
            {
                Serialize(_serialized);
            }

            return _ends[count - 1];
        }

        /// <summary>Appends the body's opening up to <c>"readings":</c> to <paramref name="target"/>; returns its length.</summary>
        private int WriteHeader(int count, PooledBuffer target)
        {
            var start = target.WrittenCount;
            var writer = _headerWriter;
            writer.Reset(target);
            writer.WriteStartObject();
            writer.WriteNumber("v"u8, FormatVersion);
            writer.WriteString("gateway"u8, _gatewayId);
            writer.WriteNumber("epoch"u8, _epoch);
            writer.WriteString("lane"u8, _lane);
            writer.WriteNumber("first"u8, _readings[0].Sequence);
            writer.WriteNumber("last"u8, _readings[count - 1].Sequence);
            writer.WriteNumber("count"u8, count);
            writer.WritePropertyName("readings"u8);
            writer.Flush();
            return target.WrittenCount - start;
        }

        /// <summary>Writes envelope + compressed body of the first <paramref name="count"/> readings into <paramref name="target"/>; returns its length.</summary>
        private int Compress(int count, PooledBuffer target)
        {
            _body.Clear();
            WriteHeader(count, _body);
            _body.Write(_items.WrittenSpan[..ItemsEnd(count)]);
            _body.Write("]}"u8);
            var body = _body.WrittenSpan;

            target.Clear();
            var envelope = target.GetSpan(EnvelopeBytes);
            Magic.CopyTo(envelope);
            envelope[4] = FormatVersion;
            envelope[5] = (byte)_compression;
            target.Advance(EnvelopeBytes);
            switch (_compression)
            {
                case BatchCompression.None:
                    target.Write(body);
                    break;
                case BatchCompression.Gzip:
                    using (var gzip = new GZipStream(target.AsStream(), GzipLevel, leaveOpen: true))
                    {
                        gzip.Write(body);
                    }

                    break;
                default:
                    var destination = target.GetSpan(BrotliEncoder.GetMaxCompressedLength(body.Length));
                    if (!BrotliEncoder.TryCompress(body, destination, out var written, BrotliQuality, BrotliWindow))
                    {
                        throw new InvalidOperationException("Brotli could not compress a batch into its worst-case buffer.");
                    }

                    target.Advance(written);
                    break;
            }

            return target.WrittenCount;
        }

        private EncodedBatch Result(int count)
        {
            var header = new BatchHeader(_gatewayId, _epoch, _lane, _readings[0].Sequence, _readings[count - 1].Sequence, count);
            return new EncodedBatch(_best.ToArray(), header, count);
        }

        private static ReadOnlySpan<byte> TrimJsonWhitespace(ReadOnlySpan<byte> json)
        {
            ReadOnlySpan<byte> whitespace = " \t\r\n"u8;
            var start = json.IndexOfAnyExcept(whitespace);
            return start < 0 ? [] : json[start..(json.LastIndexOfAnyExcept(whitespace) + 1)];
        }
    }

    /// <summary>Reads and checks one decoded body; payloads are slices of it.</summary>
    private static class Body
    {
        public static DecodedBatch Parse(byte[] utf8, BatchCompression compression)
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxJsonDepth, CommentHandling = JsonCommentHandling.Disallow });
            int? version = null, count = null;
            string? gateway = null, lane = null;
            long? epoch = null, first = null, last = null;
            List<BatchReading>? readings = null;
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new BatchFormatException("the body is not a JSON object");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    RequireReadableName(ref reader, "the body");
                    if (reader.ValueTextEquals("v"u8))
                    {
                        Once(version.HasValue, "v");
                        reader.Read();
                        version = ReadInt32(ref reader, "v");
                    }
                    else if (reader.ValueTextEquals("gateway"u8))
                    {
                        Once(gateway is not null, "gateway");
                        reader.Read();
                        gateway = ReadString(ref reader, "gateway");
                    }
                    else if (reader.ValueTextEquals("epoch"u8))
                    {
                        Once(epoch.HasValue, "epoch");
                        reader.Read();
                        epoch = ReadInt64(ref reader, "epoch");
                    }
                    else if (reader.ValueTextEquals("lane"u8))
                    {
                        Once(lane is not null, "lane");
                        reader.Read();
                        lane = ReadString(ref reader, "lane");
                    }
                    else if (reader.ValueTextEquals("first"u8))
                    {
                        Once(first.HasValue, "first");
                        reader.Read();
                        first = ReadInt64(ref reader, "first");
                    }
                    else if (reader.ValueTextEquals("last"u8))
                    {
                        Once(last.HasValue, "last");
                        reader.Read();
                        last = ReadInt64(ref reader, "last");
                    }
                    else if (reader.ValueTextEquals("count"u8))
                    {
                        Once(count.HasValue, "count");
                        reader.Read();
                        count = ReadInt32(ref reader, "count");
                    }
                    else if (reader.ValueTextEquals("readings"u8))
                    {
                        Once(readings is not null, "readings");
                        reader.Read();
                        readings = ReadReadings(ref reader, utf8);
                    }
                    else
                    {
                        // Later v1 writers may add properties; readers skip what they do not know.
                        reader.Skip();
                    }
                }

                // Anything but whitespace after the object is refused by the reader itself.
                while (reader.Read())
                {
                }
            }
            catch (JsonException ex)
            {
                throw new BatchFormatException($"the body is not valid JSON ({ex.Message})", ex, Declared(version, gateway, epoch, lane, first, last, count));
            }
            catch (BatchFormatException ex)
            {
                throw new BatchFormatException(ex.Reason, ex.InnerException, Declared(version, gateway, epoch, lane, first, last, count));
            }

            try
            {
                return new DecodedBatch(CheckHeader(version, gateway, epoch, lane, first, last, count, readings), readings!, compression);
            }
            catch (BatchFormatException ex)
            {
                throw new BatchFormatException(ex.Reason, ex.InnerException, Declared(version, gateway, epoch, lane, first, last, count));
            }
        }

        /// <summary>The header the body declared, if every field of it was read and is well formed; else null.</summary>
        private static BatchHeader? Declared(int? version, string? gateway, long? epoch, string? lane, long? first, long? last, int? count) =>
            version == FormatVersion && UplinkTopics.IsValidGatewayId(gateway) && epoch is { } e && BatchLanes.IsKnown(lane)
                && first is { } f && last is { } l && f <= l && count is { } c && c >= 1
                ? new BatchHeader(gateway!, e, lane!, f, l, c)
                : null;

        private static List<BatchReading> ReadReadings(ref Utf8JsonReader reader, byte[] utf8)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new BatchFormatException("'readings' must be an array");
            }

            var readings = new List<BatchReading>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var index = readings.Count;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new BatchFormatException($"readings[{index}] must be an object");
                }

                long? sequence = null;
                string? serial = null;
                DateTimeOffset? receivedAt = null;
                ReadOnlyMemory<byte>? payload = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    RequireReadableName(ref reader, $"readings[{index}]");
                    if (reader.ValueTextEquals("q"u8))
                    {
                        Once(sequence.HasValue, $"readings[{index}].q");
                        reader.Read();
                        sequence = ReadInt64(ref reader, $"readings[{index}].q");
                    }
                    else if (reader.ValueTextEquals("s"u8))
                    {
                        Once(serial is not null, $"readings[{index}].s");
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length is 0 or > 64)
                        {
                            throw new BatchFormatException($"readings[{index}].s must be a serial string of 1-64 characters");
                        }

                        serial = ReadString(ref reader, $"readings[{index}].s");
                    }
                    else if (reader.ValueTextEquals("r"u8))
                    {
                        Once(receivedAt.HasValue, $"readings[{index}].r");
                        reader.Read();
                        receivedAt = ReadTimestamp(ref reader, index);
                    }
                    else if (reader.ValueTextEquals("p"u8))
                    {
                        Once(payload.HasValue, $"readings[{index}].p");
                        reader.Read();
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        payload = utf8.AsMemory(start, (int)reader.BytesConsumed - start);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                var q = sequence ?? throw new BatchFormatException($"readings[{index}] has no sequence 'q'");
                var s = serial ?? throw new BatchFormatException($"readings[{index}] has no serial 's'");
                var r = receivedAt ?? throw new BatchFormatException($"readings[{index}] has no receive time 'r'");
                var p = payload ?? throw new BatchFormatException($"readings[{index}] has no payload 'p'");
                if (index > 0 && q <= readings[index - 1].Sequence)
                {
                    var previous = readings[index - 1].Sequence;
                    throw new BatchFormatException(q == previous
                        ? $"readings[{index}].q {q} is a duplicate of the reading before it"
                        : $"readings[{index}].q {q} is not above {previous}: readings must be in ascending sequence order");
                }

                readings.Add(new BatchReading(q, s, r, p));
            }

            return readings;
        }

        private static BatchHeader CheckHeader(
            int? version, string? gateway, long? epoch, string? lane, long? first, long? last, int? count, List<BatchReading>? readings)
        {
            if (version is not { } v)
            {
                throw new BatchFormatException("the body has no version 'v'");
            }

            if (v != FormatVersion)
            {
                throw new BatchFormatException($"body version {v} is not {FormatVersion}");
            }

            if (gateway is null)
            {
                throw new BatchFormatException("the body has no 'gateway'");
            }

            if (!UplinkTopics.IsValidGatewayId(gateway))
            {
                throw new BatchFormatException($"gateway '{Quote(gateway)}' is not a gateway id (1-64 letters, digits, '-' or '_')");
            }

            var e = epoch ?? throw new BatchFormatException("the body has no 'epoch'");
            if (lane is null)
            {
                throw new BatchFormatException("the body has no 'lane'");
            }

            if (!BatchLanes.IsKnown(lane))
            {
                throw new BatchFormatException($"lane '{Quote(lane)}' is neither \"{BatchLanes.Urgent}\" nor \"{BatchLanes.Routine}\"");
            }

            var f = first ?? throw new BatchFormatException("the body has no 'first'");
            var l = last ?? throw new BatchFormatException("the body has no 'last'");
            var c = count ?? throw new BatchFormatException("the body has no 'count'");
            if (readings is null)
            {
                throw new BatchFormatException("the body has no 'readings'");
            }

            if (readings.Count == 0)
            {
                throw new BatchFormatException("the batch has no readings");
            }

            if (c != readings.Count)
            {
                throw new BatchFormatException($"count is {c} but {readings.Count} readings follow");
            }

            if (f != readings[0].Sequence)
            {
                throw new BatchFormatException($"first is {f} but the first reading's sequence is {readings[0].Sequence}");
            }

            if (l != readings[^1].Sequence)
            {
                throw new BatchFormatException($"last is {l} but the last reading's sequence is {readings[^1].Sequence}");
            }

            return new BatchHeader(gateway, e, lane, f, l, c);
        }

        private static void Once(bool seen, string name)
        {
            if (seen)
            {
                throw new BatchFormatException($"'{name}' appears twice");
            }
        }

        private static int ReadInt32(ref Utf8JsonReader reader, string name) =>
            reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value)
                ? value
                : throw new BatchFormatException($"'{name}' must be a 32-bit integer");

        private static long ReadInt64(ref Utf8JsonReader reader, string name) =>
            reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value)
                ? value
                : throw new BatchFormatException($"'{name}' must be a 64-bit integer");

        /// <summary>
        /// An escaped property name is unescaped to be compared, and ValueTextEquals throws InvalidOperationException on
        /// an unpaired surrogate escape such as <c>"\ud800"</c>: refuse the batch before any comparison.
        /// </summary>
        private static void RequireReadableName(ref Utf8JsonReader reader, string where)
        {
            if (!reader.ValueIsEscaped)
            {
                return;
            }

            try
            {
                _ = reader.GetString();
            }
            catch (InvalidOperationException ex)
            {
                throw new BatchFormatException($"{where} has a property name that is not valid text (an unpaired UTF-16 surrogate escape)", ex);
            }
        }

        private static string ReadString(ref Utf8JsonReader reader, string name)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new BatchFormatException($"'{name}' must be a string");
            }

            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException ex)
            {
                // The reader checks a string's UTF-8 only when asked for it as text.
                throw new BatchFormatException($"'{name}' is not valid UTF-8", ex);
            }
        }

        private static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader, int index)
        {
            if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
            {
                throw new BatchFormatException($"readings[{index}].r must be an RFC 3339 timestamp string");
            }

            return WireTime.TryParseTimestamp(reader.ValueSpan, out var value, out var reason)
                ? value
                : throw new BatchFormatException($"readings[{index}].r {reason}");
        }
    }
}
