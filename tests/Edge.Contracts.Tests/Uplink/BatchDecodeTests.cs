using System.IO.Compression;
using System.Text;
using Edge.Contracts.Uplink;
using static Edge.Contracts.Tests.Uplink.UplinkReadings;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>What a worker gets from hostile or broken messages: a <see cref="BatchFormatException"/> naming the problem, quickly.</summary>
public sealed class BatchDecodeTests
{
    private const string R7 = """{"q":7,"s":"OXY-8844-5521","r":"2025-11-24T10:15:32.5Z","p":{"serial":"OXY-8844-5521"}}""";
    private const string R8 = """{"q":8,"s":"OXY-8844-5521","r":"2025-11-24T10:15:33Z","p":{"serial":"ECG-7711-0045"}}""";
    private const string Valid = """{"v":1,"gateway":"gw-clinic-042","epoch":42,"lane":"routine","first":7,"last":8,"count":2,"readings":[""" + R7 + "," + R8 + "]}";

    private const long OneGigabyte = 1L << 30;

    public static TheoryData<BatchCompression> Compressions => [BatchCompression.None, BatchCompression.Gzip, BatchCompression.Brotli];

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_hand_written_body_decodes_in_every_compression(BatchCompression compression)
    {
        var decoded = BatchCodec.Decode(CompressedWire(compression, Encoding.UTF8.GetBytes(Valid)));

        Assert.Equal(new BatchHeader("gw-clinic-042", 42, "routine", 7, 8, 2), decoded.Header);
        Assert.Equal("""{"serial":"OXY-8844-5521"}""", Encoding.UTF8.GetString(decoded.Readings[0].Payload.Span));
        Assert.Equal(new DateTimeOffset(2025, 11, 24, 10, 15, 32, 500, TimeSpan.Zero), decoded.Readings[0].ReceivedAt);
    }

    [Fact]
    public void Properties_in_another_order_and_unknown_properties_are_accepted()
    {
        const string body = """{"readings":[{"p":{"a":1},"x":[1,{"y":2}],"r":"2025-11-24T10:15:32Z","s":"OXY-8844-5521","q":3}],"count":1,"extension":{"n":[1,2]},"last":3,"first":3,"lane":"urgent","epoch":-5,"gateway":"g","v":1}""";

        var decoded = BatchCodec.Decode(Wire(BatchCompression.None, Encoding.UTF8.GetBytes(body)));

        Assert.Equal(new BatchHeader("g", -5, "urgent", 3, 3, 1), decoded.Header);
        Assert.Equal("""{"a":1}""", Encoding.UTF8.GetString(decoded.Readings[0].Payload.Span));
    }

    [Theory]
    [InlineData(new byte[0], "the message is 0 bytes, shorter than the 6-byte envelope")]
    [InlineData(new byte[] { (byte)'E', (byte)'D', (byte)'G', (byte)'B', 1 }, "the message is 5 bytes, shorter than the 6-byte envelope")]
    [InlineData(new byte[] { (byte)'E', (byte)'D', (byte)'G', (byte)'X', 1, 0, (byte)'{', (byte)'}' }, "bad magic 0x45444758: a batch starts with 'EDGB'")]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'v', (byte)'"', (byte)':', (byte)'1', (byte)'}' }, "bad magic 0x7B227622: a batch starts with 'EDGB'")]
    [InlineData(new byte[] { (byte)'E', (byte)'D', (byte)'G', (byte)'B', 2, 0, (byte)'{', (byte)'}' }, "unsupported format version 2: this reader knows version 1")]
    [InlineData(new byte[] { (byte)'E', (byte)'D', (byte)'G', (byte)'B', 1, 3, (byte)'{', (byte)'}' }, "unknown compression 3: expected 0 (none), 1 (gzip) or 2 (brotli)")]
    public void A_bad_envelope_is_refused_naming_the_problem(byte[] wire, string reason)
    {
        AssertRefused(wire, reason);
    }

    [Fact]
    public void Corrupt_gzip_is_refused()
    {
        var wire = CompressedWire(BatchCompression.Gzip, Encoding.UTF8.GetBytes(Valid));
        wire[6] = 0x00; // the gzip magic

        var ex = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(wire));

        Assert.StartsWith("the gzip data is corrupt", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzip_with_a_wrong_checksum_is_refused()
    {
        var wire = CompressedWire(BatchCompression.Gzip, Encoding.UTF8.GetBytes(Valid));
        wire[^6] ^= 0xFF; // inside the CRC-32 trailer

        var ex = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(wire));

        Assert.StartsWith("the gzip data is corrupt", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(40)]
    public void Truncated_gzip_is_refused_even_when_only_its_trailer_is_cut(int cut)
    {
        var wire = CompressedWire(BatchCompression.Gzip, Encoding.UTF8.GetBytes(Valid));

        var ex = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(wire.AsMemory(..^cut)));

        Assert.Equal("the gzip stream is truncated (its trailer does not match the data)", ex.Reason);
    }

    [Fact]
    public void Corrupt_brotli_is_refused()
    {
        // 0xFF is not a valid brotli stream header (its window bits are reserved).
        AssertRefused(Wire(BatchCompression.Brotli, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), "the brotli data is corrupt");
    }

    [Fact]
    public void Truncated_brotli_is_refused()
    {
        var wire = CompressedWire(BatchCompression.Brotli, Encoding.UTF8.GetBytes(Valid));

        AssertRefused(wire[..^4], "the brotli stream is truncated");
    }

    [Fact]
    public void Bytes_after_the_brotli_stream_are_refused()
    {
        byte[] wire = [.. CompressedWire(BatchCompression.Brotli, Encoding.UTF8.GetBytes(Valid)), 1, 2, 3];

        AssertRefused(wire, "3 bytes follow the end of the brotli stream");
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_body_exactly_at_the_limit_decodes_and_one_byte_more_is_refused(BatchCompression compression)
    {
        var body = Encoding.UTF8.GetBytes(Valid);
        var wire = CompressedWire(compression, body);

        Assert.Equal(2, BatchCodec.Decode(wire, maxDecompressedBytes: body.Length).Readings.Count);
        AssertRefused(wire, $"the decompressed body is larger than the {body.Length - 1} bytes allowed", body.Length - 1);
    }

    [Fact]
    public void A_gzip_bomb_of_a_gigabyte_is_refused_at_the_limit_without_inflating_it()
    {
        var bomb = Wire(BatchCompression.Gzip, GzipOfZeros(OneGigabyte));

        AssertRefusedWithinMemory(bomb);
    }

    [Fact]
    public void A_brotli_bomb_of_a_gigabyte_is_refused_at_the_limit_without_inflating_it()
    {
        var bomb = Wire(BatchCompression.Brotli, BrotliOfZeros(OneGigabyte));

        AssertRefusedWithinMemory(bomb);
    }

    [Theory]
    [InlineData("""{"v":1,""", "the body is not valid JSON")]
    [InlineData("""[1,2]""", "the body is not a JSON object")]
    [InlineData("", "the body is not valid JSON")]
    [InlineData(Valid + " x", "the body is not valid JSON")]
    [InlineData(Valid + "{}", "the body is not valid JSON")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":"2025-11-24T10:15:32Z","p":{"a":1}]}""", "the body is not valid JSON")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":"2025-11-24T10:15:32Z","p":{"a":1},}]}""", "the body is not valid JSON")]
    [InlineData("""{"v":1,/*comment*/"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[]}""", "the body is not valid JSON")]
    public void Malformed_json_is_refused(string body, string reason)
    {
        AssertRefusedBody(body, reason);
    }

    [Theory]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":8,"count":3,"readings":[R7,R8]}""", "count is 3 but 2 readings follow")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":8,"count":1,"readings":[R7,R8]}""", "count is 1 but 2 readings follow")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":6,"last":8,"count":2,"readings":[R7,R8]}""", "first is 6 but the first reading's sequence is 7")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":9,"count":2,"readings":[R7,R8]}""", "last is 9 but the last reading's sequence is 8")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":8,"last":7,"count":2,"readings":[R8,R7]}""", "readings[1].q 7 is not above 8: readings must be in ascending sequence order")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":2,"readings":[R7,R7]}""", "readings[1].q 7 is a duplicate of the reading before it")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":0,"readings":[]}""", "the batch has no readings")]
    public void A_header_that_does_not_match_its_readings_is_refused(string body, string reason)
    {
        AssertRefusedBody(body.Replace("R7", R7, StringComparison.Ordinal).Replace("R8", R8, StringComparison.Ordinal), reason);
    }

    [Theory]
    [InlineData("""{"v":2,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "body version 2 is not 1")]
    [InlineData("""{"v":"1","gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "'v' must be a 32-bit integer")]
    [InlineData("""{"v":1,"gateway":"gw/1","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "gateway 'gw/1' is not a gateway id (1-64 letters, digits, '-' or '_')")]
    [InlineData("""{"v":1,"gateway":"","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "gateway '' is not a gateway id")]
    [InlineData("""{"v":1,"gateway":"g\u002Fx","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "gateway 'g/x' is not a gateway id")]
    [InlineData("""{"v":1,"gateway":"g12345678901234567890123456789012345678901234567890123456789012345","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "gateway 'g123456789012345678901234567890123456789…' is not a gateway id")]
    [InlineData("""{"v":1,"gateway":7,"epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "'gateway' must be a string")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1.5,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "'epoch' must be a 64-bit integer")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"bulk","first":7,"last":7,"count":1,"readings":[R7]}""", "lane 'bulk' is neither \"urgent\" nor \"routine\"")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":"7","last":7,"count":1,"readings":[R7]}""", "'first' must be a 64-bit integer")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1e3,"readings":[R7]}""", "'count' must be a 32-bit integer")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"epoch":2,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "'epoch' appears twice")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7],"readings":[R7]}""", "'readings' appears twice")]
    [InlineData("""{"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "the body has no version 'v'")]
    [InlineData("""{"v":1,"epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "the body has no 'gateway'")]
    [InlineData("""{"v":1,"gateway":"gw","lane":"routine","first":7,"last":7,"count":1,"readings":[R7]}""", "the body has no 'epoch'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"first":7,"last":7,"count":1,"readings":[R7]}""", "the body has no 'lane'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","last":7,"count":1,"readings":[R7]}""", "the body has no 'first'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"count":1,"readings":[R7]}""", "the body has no 'last'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"readings":[R7]}""", "the body has no 'count'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1}""", "the body has no 'readings'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":{}}""", "'readings' must be an array")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[7]}""", "readings[0] must be an object")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"r":"2025-11-24T10:15:32Z","p":{}}]}""", "readings[0] has no sequence 'q'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","p":{}}]}""", "readings[0] has no receive time 'r'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"r":"2025-11-24T10:15:32Z","p":{}}]}""", "readings[0] has no serial 's'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":12,"r":"2025-11-24T10:15:32Z","p":{}}]}""", "readings[0].s must be a serial string")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":"2025-11-24T10:15:32Z"}]}""", "readings[0] has no payload 'p'")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":"7","s":"OXY-8844-5521","r":"2025-11-24T10:15:32Z","p":{}}]}""", "'readings[0].q' must be a 64-bit integer")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","q":7,"r":"2025-11-24T10:15:32Z","p":{}}]}""", "'readings[0].q' appears twice")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":"yesterday","p":{}}]}""", "readings[0].r must be an RFC 3339 timestamp like 2025-11-24T10:15:32Z (was 'yesterday')")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":"2025-11-24T10:15:32","p":{}}]}""", "readings[0].r must include a UTC offset")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":1,"lane":"routine","first":7,"last":7,"count":1,"readings":[{"q":7,"s":"OXY-8844-5521","r":1732443332,"p":{}}]}""", "readings[0].r must be an RFC 3339 timestamp string")]
    public void A_missing_or_wrong_field_is_refused_naming_it(string body, string reason)
    {
        AssertRefusedBody(body.Replace("R7", R7, StringComparison.Ordinal), reason);
    }

    [Theory]
    [InlineData("""{"v":1,"gateway":"gw","epoch":5,"lane":"urgent","first":7,"last":8,"count":3,"readings":[R7,R8]}""", "count is 3 but 2 readings follow")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":5,"lane":"urgent","first":7,"last":8,"count":2,"readings":[R7,{"q":8,"s":"OXY-8844-5521","r":"soon","p":{}}]}""", "readings[1].r must be an RFC 3339 timestamp")]
    [InlineData("""{"v":1,"gateway":"gw","epoch":5,"lane":"urgent","first":7,"last":8,"count":2,"readings":[R7,{"q":8,"s":"OXY-8844-5521",""", "the body is not valid JSON")]
    public void A_broken_batch_whose_header_was_readable_carries_it_so_a_worker_can_acknowledge_the_range(string body, string reason)
    {
        var ex = Assert.Throws<BatchFormatException>(() =>
            BatchCodec.Decode(Wire(BatchCompression.None, Encoding.UTF8.GetBytes(body.Replace("R7", R7, StringComparison.Ordinal).Replace("R8", R8, StringComparison.Ordinal)))));

        Assert.StartsWith(reason, ex.Reason, StringComparison.Ordinal);
        Assert.Equal(new BatchHeader("gw", 5, "urgent", 7, 8, ex.Header!.Count), ex.Header);
    }

    [Theory]
    [InlineData("""{"v":1,"gateway":"gw","epoch":5,"lane":"urgent","first":7,"last":8,"readings":[R7,{"q":""", "the body is not valid JSON")]
    [InlineData("""{"v":1,"gateway":"gw/x","epoch":5,"lane":"urgent","first":7,"last":8,"count":2,"readings":[R7,R8]}""", "gateway 'gw/x' is not a gateway id")]
    [InlineData("""{"readings":[R7,{"q":8,"s":"OXY-8844-5521","r":"soon","p":{}}],"v":1,"gateway":"gw","epoch":5,"lane":"urgent","first":7,"last":8,"count":2}""", "readings[1].r must be an RFC 3339 timestamp")]
    public void A_batch_broken_before_its_whole_header_was_read_carries_none(string body, string reason)
    {
        var ex = Assert.Throws<BatchFormatException>(() =>
            BatchCodec.Decode(Wire(BatchCompression.None, Encoding.UTF8.GetBytes(body.Replace("R7", R7, StringComparison.Ordinal).Replace("R8", R8, StringComparison.Ordinal)))));

        Assert.StartsWith(reason, ex.Reason, StringComparison.Ordinal);
        Assert.Null(ex.Header);
    }

    [Fact]
    public void Envelope_and_compression_failures_carry_no_header()
    {
        Assert.Null(Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(Wire(BatchCompression.Brotli, [0xFF, 0xFF, 0xFF]))).Header);
        Assert.Null(Assert.Throws<BatchFormatException>(() => BatchCodec.Decode("EDGB"u8.ToArray())).Header);
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Random_damage_is_refused_as_a_batch_format_error_or_decodes_never_anything_else(BatchCompression compression)
    {
        var original = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, Generate(40), 1 << 20, compression).Bytes;
        var random = new Random(17);
        var refused = 0;
        for (var round = 0; round < 2_000; round++)
        {
            var damaged = (byte[])original.Clone();
            var flips = random.Next(1, 4);
            for (var i = 0; i < flips; i++)
            {
                // Past the envelope: envelope damage is covered above, body damage is the hard part.
                damaged[random.Next(BatchCodec.EnvelopeBytes, damaged.Length)] = (byte)random.Next(256);
            }

            var length = random.Next(4) == 0 ? random.Next(BatchCodec.EnvelopeBytes, damaged.Length) : damaged.Length;
            try
            {
                var decoded = BatchCodec.Decode(damaged.AsMemory(0, length));
                Assert.Equal(decoded.Header.Count, decoded.Readings.Count);
            }
            catch (BatchFormatException)
            {
                refused++;
            }
        }

        Assert.True(refused > 1_000, $"only {refused} of 2000 damaged {compression} batches were refused");
    }

    private static void AssertRefusedBody(string body, string reason) =>
        AssertRefused(Wire(BatchCompression.None, Encoding.UTF8.GetBytes(body)), reason);

    private static void AssertRefused(byte[] wire, string reason, int maxDecompressedBytes = BatchCodec.DefaultMaxDecompressedBytes)
    {
        var ex = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(wire, maxDecompressedBytes));
        Assert.StartsWith(reason, ex.Reason, StringComparison.Ordinal);
        Assert.StartsWith("Invalid uplink batch: " + reason, ex.Message, StringComparison.Ordinal);
    }

    private static void AssertRefusedWithinMemory(byte[] bomb)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(bomb));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal($"the decompressed body is larger than the {BatchCodec.DefaultMaxDecompressedBytes} bytes allowed", ex.Reason);
        // At most the limit's buffer (rented, so perhaps allocated once) and small change: nowhere near the gigabyte.
        Assert.True(allocated < 3L * BatchCodec.DefaultMaxDecompressedBytes, $"decoding the bomb allocated {allocated:N0} bytes");
    }

    /// <summary>Gzip of <paramref name="size"/> zero bytes, streamed so the zeros never exist in memory at once.</summary>
    private static byte[] GzipOfZeros(long size)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            WriteZeros(gzip, size);
        }

        return output.ToArray();
    }

    private static byte[] BrotliOfZeros(long size)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            WriteZeros(brotli, size);
        }

        return output.ToArray();
    }

    private static void WriteZeros(Stream stream, long size)
    {
        var zeros = new byte[1 << 20];
        for (long written = 0; written < size; written += zeros.Length)
        {
            stream.Write(zeros);
        }
    }
}
