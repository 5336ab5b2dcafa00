using System.Buffers;
using System.IO.Compression;
using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Contracts.Text;

namespace Edge.Contracts.Uplink;

/// <summary>One Encode call: the readings serialized once, then the prefix search over compressed sizes.</summary>
internal sealed class BatchEncoder : IDisposable
{
    // Compressions Encode spends searching for the largest prefix that fits; past it, the best fit found is taken.
    private const int MaxCompressions = 8;

    // The first attempt compresses a body this many times the wire room: all of a small batch, or a cheap sample of a
    // long backlog whose ratio predicts how much of it fits. (Brotli costs about twice as much per byte on a 1 MB body
    // as on 100 KB, so a generous first guess at a backlog costs more than the sample.)
    private const int FirstAttemptFactor = 2;

    // A batch within this share of the limit is full enough: another compression of the whole body to gain the last
    // percent costs more CPU than the percent saves in messages.
    private const double FullEnough = 0.02;

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

    public BatchEncoder(string gatewayId, long epoch, string lane, IReadOnlyList<BatchReading> readings, BatchCompression compression)
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
        var room = maxWireBytes - BatchCodec.EnvelopeBytes;
        if (_compression == BatchCompression.None)
        {
            // Uncompressed sizes are known exactly: no search.
            var fits = LargestWithin(Math.Min(room, BatchCodec.DefaultMaxDecompressedBytes), _readings.Count);
            if (fits == 0)
            {
                throw new ReadingTooLargeException(_readings[0].Sequence, BatchCodec.EnvelopeBytes + (int)Math.Min(RawSize(1), int.MaxValue), maxWireBytes);
            }

            Compress(fits, _best);
            return Result(fits);
        }

        var n = LargestWithin(Math.Min((long)room * FirstAttemptFactor, BatchCodec.DefaultMaxDecompressedBytes), _readings.Count);
        if (n == 0)
        {
            // The first reading alone is more than the first attempt's budget; compressed, it may still fit.
            if (RawSize(1) > BatchCodec.DefaultMaxDecompressedBytes)
            {
                throw new ReadingTooLargeException(_readings[0].Sequence, BatchCodec.EnvelopeBytes + (int)Math.Min(RawSize(1), int.MaxValue), maxWireBytes);
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
        if (lo == _readings.Count || RawSize(lo + 1) > BatchCodec.DefaultMaxDecompressedBytes)
        {
            return true;
        }

        var perReading = (double)(loWire - BatchCodec.EnvelopeBytes) / lo;
        return maxWireBytes - loWire <= Math.Max(2 * perReading, (maxWireBytes - BatchCodec.EnvelopeBytes) * FullEnough);
    }

    /// <summary>The next count to try; for growth it may be <paramref name="lo"/> itself, meaning "no more fits".</summary>
    private int NextGuess(int lo, int hi, int loWire, int hiWire, long loRaw, long hiRaw, int maxWireBytes)
    {
        var room = maxWireBytes - BatchCodec.EnvelopeBytes;
        if (lo == 0)
        {
            // Only failures so far: scale down by the last one's ratio, aiming a little low so the next try fits.
            var target = room * ((double)hiRaw / (hiWire - BatchCodec.EnvelopeBytes)) * 0.98;
            return Math.Max(1, LargestWithin((long)target, hi - 1));
        }

        if (hi == 0)
        {
            // Only fits so far: grow to what the last fit's ratio says the room holds, aiming a hair low so that the
            // try lands inside the "full enough" band rather than just over the limit; capped by what decoders accept.
            var target = Math.Min(room * ((double)loRaw / (loWire - BatchCodec.EnvelopeBytes)) * 0.995, BatchCodec.DefaultMaxDecompressedBytes);
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
        writer.WriteNumber("v"u8, BatchCodec.FormatVersion);
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
        var envelope = target.GetSpan(BatchCodec.EnvelopeBytes);
        BatchCodec.Magic.CopyTo(envelope);
        envelope[4] = BatchCodec.FormatVersion;
        envelope[5] = (byte)_compression;
        target.Advance(BatchCodec.EnvelopeBytes);
        switch (_compression)
        {
            case BatchCompression.None:
                target.Write(body);
                break;
            case BatchCompression.Gzip:
                using (var gzip = new GZipStream(target.AsStream(), BatchCodec.GzipLevel, leaveOpen: true))
                {
                    gzip.Write(body);
                }

                break;
            default:
                var destination = target.GetSpan(BrotliEncoder.GetMaxCompressedLength(body.Length));
                if (!BrotliEncoder.TryCompress(body, destination, out var written, BatchCodec.BrotliQuality, BatchCodec.BrotliWindow))
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
