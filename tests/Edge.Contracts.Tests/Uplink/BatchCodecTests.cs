using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using static Edge.Contracts.Tests.Uplink.UplinkReadings;

namespace Edge.Contracts.Tests.Uplink;

public sealed class BatchCodecTests
{
    private const int AwsLimit = 128 * 1024;

    public static TheoryData<BatchCompression> Compressions => [BatchCompression.None, BatchCompression.Gzip, BatchCompression.Brotli];

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Every_compression_round_trips_the_header_and_every_reading(BatchCompression compression)
    {
        var readings = Generate(500);

        // Room for 500 readings even uncompressed (~250 bytes each on the wire).
        var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, 256 * 1024, compression);
        var decoded = BatchCodec.Decode(encoded.Bytes);

        Assert.Equal(500, encoded.ReadingsTaken);
        Assert.Equal(new BatchHeader(GatewayId, Epoch, BatchLanes.Routine, FirstSequence, FirstSequence + 499, 500), encoded.Header);
        Assert.Equal(encoded.Header, decoded.Header);
        Assert.Equal(compression, decoded.Compression);
        Assert.Equal(readings.Length, decoded.Readings.Count);
        for (var i = 0; i < readings.Length; i++)
        {
            Assert.Equal(readings[i].Sequence, decoded.Readings[i].Sequence);
            Assert.Equal(readings[i].ReceivedAt, decoded.Readings[i].ReceivedAt);
            Assert.Equal(readings[i].Payload.ToArray(), decoded.Readings[i].Payload.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_worker_can_validate_every_decoded_payload_with_the_contracts_validator(BatchCompression compression)
    {
        var decoded = BatchCodec.Decode(BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Urgent, Generate(300, seed: 9), AwsLimit, compression).Bytes);

        Assert.All(decoded.Readings, reading =>
        {
            using var document = JsonDocument.Parse(reading.Payload);
            var serial = SerialNumber.Parse(document.RootElement.GetProperty("serial").GetString()!);
            var validated = PayloadValidator.ValidateTelemetry(reading.Payload.Span, serial);
            Assert.True(validated.IsValid, validated.ErrorSummary());
        });
    }

    [Fact]
    public void The_default_is_the_measured_choice_brotli()
    {
        var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, Generate(10), AwsLimit);

        Assert.Equal(BatchCompression.Brotli, BatchCodec.DefaultCompression);
        Assert.Equal((byte)BatchCompression.Brotli, encoded.Bytes[5]);
    }

    [Theory]
    [InlineData("""{"serial":"OXY-8844-5521","metrics":{"oxygen_purity_pct":94.60,"flow_rate_lpm":2.5e0,"battery_pct":82}}""")]
    [InlineData("""{ "serial" : "ECG-7711-0045" ,"note" : "caf\u00e9 \"quoted\" \\ back\/slash", "lead": "II" }""")]
    [InlineData("{\n  \"serial\": \"CPAP-2301-9912\",\n\t\"mode\": \"Auto✓ é 日本\",\n  \"tags\": [1, 2.0, -3e-2, true, false, null, {}, []]\n}")]
    [InlineData("42")]
    [InlineData("\"just a string\"")]
    [InlineData("null")]
    [InlineData("[{\"a\":[{\"b\":[{\"c\":{}}]}]}]")]
    public void Payload_bytes_are_embedded_exactly_as_the_device_sent_them(string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        BatchReading[] readings = [new(7, "ECG-7711-0045", Start, bytes), new(8, "ECG-7711-0045", Start.AddSeconds(1), Encoding.UTF8.GetBytes(Seeds.OxygenTelemetry))];

        foreach (var compression in new[] { BatchCompression.None, BatchCompression.Gzip, BatchCompression.Brotli })
        {
            var decoded = BatchCodec.Decode(BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Urgent, readings, AwsLimit, compression).Bytes);

            Assert.Equal(bytes, decoded.Readings[0].Payload.ToArray());
            Assert.Equal(Encoding.UTF8.GetBytes(Seeds.OxygenTelemetry), decoded.Readings[1].Payload.ToArray());
        }
    }

    [Fact]
    public void Whitespace_around_a_payload_is_not_part_of_it()
    {
        BatchReading[] readings = [new(1, "ECG-7711-0045", Start, Encoding.UTF8.GetBytes(" \r\n\t" + Seeds.EcgTelemetry + "\n"))];

        var decoded = BatchCodec.Decode(BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit).Bytes);

        Assert.Equal(Encoding.UTF8.GetBytes(Seeds.EcgTelemetry), decoded.Readings[0].Payload.ToArray());
    }

    [Fact]
    public void Receive_times_keep_their_instant_to_the_tick_in_utc()
    {
        BatchReading[] readings =
        [
            new(1, "ECG-7711-0045", new DateTimeOffset(2025, 11, 24, 15, 45, 32, TimeSpan.FromHours(5.5)).AddTicks(1_234_567), "{}"u8.ToArray()),
            // A gateway without a real-time clock boots in 1970 until NTP answers.
            new(2, "ECG-7711-0045", DateTimeOffset.UnixEpoch.AddSeconds(42), "{}"u8.ToArray()),
            new(3, "ECG-7711-0045", new DateTimeOffset(2025, 11, 24, 10, 15, 32, TimeSpan.Zero), "{}"u8.ToArray()),
        ];

        var decoded = BatchCodec.Decode(BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit).Bytes);

        Assert.Equal(readings.Select(r => r.ReceivedAt.UtcTicks), decoded.Readings.Select(r => r.ReceivedAt.UtcTicks));
        Assert.All(decoded.Readings, r => Assert.Equal(TimeSpan.Zero, r.ReceivedAt.Offset));
    }

    [Fact]
    public void The_wire_is_the_documented_envelope_and_json_body()
    {
        BatchReading[] readings =
        [
            new(41, "ECG-7711-0045", new DateTimeOffset(2025, 11, 24, 10, 15, 32, 123, TimeSpan.Zero), Encoding.UTF8.GetBytes(Seeds.CpapTelemetry)),
            new(42, "ECG-7711-0045", new DateTimeOffset(2025, 11, 24, 10, 15, 33, TimeSpan.Zero), Encoding.UTF8.GetBytes(Seeds.OxygenTelemetry)),
        ];

        var wire = BatchCodec.Encode("gw-1", 77, BatchLanes.Urgent, readings, AwsLimit, BatchCompression.None).Bytes;

        Assert.Equal("EDGB"u8.ToArray(), wire[..4]);
        Assert.Equal([1, 0], wire[4..6]);
        Assert.Equal(
            """{"v":1,"gateway":"gw-1","epoch":77,"lane":"urgent","first":41,"last":42,"count":2,"readings":[""" +
            """{"q":41,"s":"ECG-7711-0045","r":"2025-11-24T10:15:32.123Z","p":""" + Seeds.CpapTelemetry + "}," +
            """{"q":42,"s":"ECG-7711-0045","r":"2025-11-24T10:15:33Z","p":""" + Seeds.OxygenTelemetry + "}]}",
            Encoding.UTF8.GetString(wire[6..]));
    }

    [Theory]
    [InlineData(BatchCompression.Gzip)]
    [InlineData(BatchCompression.Brotli)]
    public void Compression_changes_only_the_bytes_after_the_envelope(BatchCompression compression)
    {
        var readings = Generate(200);
        var plain = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit, BatchCompression.None).Bytes;
        var packed = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit, compression).Bytes;

        Assert.Equal((byte)compression, packed[5]);
        Assert.Equal(plain[6..], Decompress(compression, packed[6..]));
        Assert.True(packed.Length * 5 < plain.Length, $"{compression}: {packed.Length} bytes from {plain.Length}");
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_long_backlog_is_cut_to_the_longest_prefix_that_fits_the_wire_limit(BatchCompression compression)
    {
        // 5,000 seed-like readings compress into less than 128 KiB, so the backlog is four times that.
        var readings = Generate(20_000);

        var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit, compression);

        var taken = encoded.ReadingsTaken;
        Assert.InRange(taken, 1, readings.Length - 1);
        Assert.InRange(encoded.Bytes.Length, 1, AwsLimit);
        Assert.Equal(new BatchHeader(GatewayId, Epoch, BatchLanes.Routine, FirstSequence, readings[taken - 1].Sequence, taken), encoded.Header);
        Assert.Equal(encoded.Header, BatchCodec.Decode(encoded.Bytes).Header);

        // One more reading would not have fitted, or the batch fills at least 98% of the limit.
        var oneMore = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings[..(taken + 1)], int.MaxValue, compression);
        Assert.Equal(taken + 1, oneMore.ReadingsTaken);
        Assert.True(
            oneMore.Bytes.Length > AwsLimit || encoded.Bytes.Length >= AwsLimit * 0.98,
            $"{compression}: took {taken} readings in {encoded.Bytes.Length} bytes; {taken + 1} take {oneMore.Bytes.Length}");
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_backlog_drains_in_batches_that_each_fit_and_together_hold_every_reading_once(BatchCompression compression)
    {
        var readings = Generate(25_000, seed: 3);
        var decoded = new List<BatchReading>();

        for (var next = 0; next < readings.Length;)
        {
            var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings[next..], AwsLimit, compression);
            Assert.InRange(encoded.Bytes.Length, 1, AwsLimit);
            decoded.AddRange(BatchCodec.Decode(encoded.Bytes).Readings);
            next += encoded.ReadingsTaken;
        }

        Assert.Equal(readings.Select(r => r.Sequence), decoded.Select(r => r.Sequence));
        Assert.Equal(readings.Select(r => r.Payload.Length), decoded.Select(r => r.Payload.Length));
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_limit_that_fits_only_the_first_reading_takes_one(BatchCompression compression)
    {
        var readings = Generate(50);
        var single = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings[..1], int.MaxValue, compression);

        var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, single.Bytes.Length, compression);

        Assert.Equal(1, encoded.ReadingsTaken);
        Assert.Equal(single.Bytes, encoded.Bytes);
    }

    [Theory]
    [InlineData(BatchCompression.Gzip)]
    [InlineData(BatchCompression.Brotli)]
    public void A_reading_larger_than_the_limit_uncompressed_is_sent_when_it_fits_compressed(BatchCompression compression)
    {
        var repetitive = Encoding.UTF8.GetBytes($$"""{"serial":"ECG-7711-0045","samples":"{{string.Concat(Enumerable.Repeat("0123456789", 400))}}"}""");
        BatchReading[] readings = [new(1, "ECG-7711-0045", Start, repetitive), new(2, "ECG-7711-0045", Start, repetitive), new(3, "ECG-7711-0045", Start, Encoding.UTF8.GetBytes(Seeds.EcgTelemetry))];

        var encoded = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, 1024, compression);

        Assert.InRange(encoded.Bytes.Length, 1, 1024);
        Assert.InRange(encoded.ReadingsTaken, 1, 3);
        var decoded = BatchCodec.Decode(encoded.Bytes);
        Assert.Equal(readings.Take(encoded.ReadingsTaken).Select(r => r.Payload.ToArray()), decoded.Readings.Select(r => r.Payload.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_reading_too_large_to_fit_alone_is_refused_with_a_clear_exception(BatchCompression compression)
    {
        // Random digits compress poorly, so no compression can squeeze this reading under 1 KB.
        var random = new Random(5);
        var digits = string.Concat(Enumerable.Range(0, 4000).Select(_ => (char)('0' + random.Next(10))));
        BatchReading[] readings = [new(900, "ECG-7711-0045", Start, Encoding.UTF8.GetBytes($$"""{"serial":"ECG-7711-0045","samples":"{{digits}}"}""")), new(901, "ECG-7711-0045", Start, "{}"u8.ToArray())];

        var ex = Assert.Throws<ReadingTooLargeException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, 1024, compression));

        Assert.Equal(900, ex.Sequence);
        Assert.Equal(1024, ex.MaxWireBytes);
        Assert.True(ex.WireBytes > 1024);
        Assert.StartsWith($"Reading 900 alone encodes to {ex.WireBytes} bytes on the wire, more than the 1024 allowed: it cannot be sent in any batch.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "is not a gateway id")]
    [InlineData("gw/clinic", "is not a gateway id")]
    [InlineData("gw+", "is not a gateway id")]
    [InlineData("gw clinic", "is not a gateway id")]
    [InlineData("g12345678901234567890123456789012345678901234567890123456789012345", "is not a gateway id")]
    public void A_bad_gateway_id_is_refused_when_encoding(string gatewayId, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => BatchCodec.Encode(gatewayId, Epoch, BatchLanes.Routine, Generate(1), AwsLimit));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Equal("gatewayId", ex.ParamName);
    }

    [Fact]
    public void Bad_arguments_are_refused_when_encoding_with_the_reason()
    {
        var readings = Generate(3);
        BatchReading[] outOfOrder = [readings[0], readings[2], readings[1]];
        BatchReading[] repeated = [readings[0], readings[0]];
        BatchReading[] notJson = [readings[0], new(readings[0].Sequence + 1, "ECG-7711-0045", Start, "{\"serial\":"u8.ToArray())];
        BatchReading[] twoValues = [new(1, "ECG-7711-0045", Start, "{} {}"u8.ToArray())];
        BatchReading[] empty = [new(1, "ECG-7711-0045", Start, " "u8.ToArray())];

        Assert.Contains("is not a lane", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, "bulk", readings, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains("at least one reading", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, [], AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains($"{readings[1].Sequence} follows {readings[2].Sequence}", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, outOfOrder, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains("ascending sequence order", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, repeated, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains($"Reading {readings[0].Sequence + 1}: the payload is not one JSON value", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, notJson, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains("Reading 1: the payload is not one JSON value", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, twoValues, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Contains("Reading 1: the payload is not one JSON value", Assert.Throws<ArgumentException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, empty, AwsLimit)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, BatchCodec.EnvelopeBytes));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, AwsLimit, (BatchCompression)7));
    }

    private static byte[] Decompress(BatchCompression compression, byte[] data)
    {
        using var input = new MemoryStream(data);
        using Stream decompressor = compression == BatchCompression.Gzip
            ? new GZipStream(input, CompressionMode.Decompress)
            : new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decompressor.CopyTo(output);
        return output.ToArray();
    }
}
