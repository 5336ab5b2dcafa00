using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Edge.Contracts.Uplink;

/// <summary>
/// The decoding side of <see cref="BatchCompression"/>: each body decompressed within a size limit, so a decompression
/// bomb stops at the limit, and a truncated stream is refused rather than taken for a whole one.
/// </summary>
internal static class BatchDecompression
{
    internal static byte[] Uncompressed(ReadOnlySpan<byte> body, int limit) =>
        body.Length <= limit ? body.ToArray() : throw TooBig(limit);

    internal static byte[] Gunzip(ReadOnlyMemory<byte> compressed, int limit)
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

    internal static byte[] Unbrotli(ReadOnlySpan<byte> compressed, int limit)
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
}
