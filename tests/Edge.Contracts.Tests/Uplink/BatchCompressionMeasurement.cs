using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using Xunit.Abstractions;
using static Edge.Contracts.Tests.Uplink.UplinkReadings;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>Runs alone, so other tests do not share the CPU with the timings it prints.</summary>
[CollectionDefinition(nameof(MeasurementCollection), DisableParallelization = true)]
public sealed class MeasurementCollection;

/// <summary>
/// The numbers behind <see cref="BatchCodec.DefaultCompression"/> and <see cref="BatchCodec.BrotliQuality"/>: one
/// 500-reading batch of seed-like readings under each candidate. It prints the table in docs/uplink.md:
/// <c>dotnet test tests/Edge.Contracts.Tests -c Release --filter "FullyQualifiedName~BatchCompressionMeasurement" --logger "console;verbosity=detailed"</c>.
/// It asserts sizes and round trips, never times (a test must not fail because a machine is busy).
/// </summary>
[Collection(nameof(MeasurementCollection))]
public sealed class BatchCompressionMeasurement(ITestOutputHelper output)
{
    private const int Readings = 500;
    private const int Warmup = 30;
    private const int Rounds = 300;

    private sealed record Candidate(string Name, Func<byte[], byte[]> Compress, Func<byte[], byte[]> Decompress);

    [Fact]
    public void Measure_a_500_reading_batch_under_each_compression()
    {
        var readings = Generate(Readings);
        AssertSeedLike(readings);

        var body = Encode(readings, BatchCompression.None).Bytes[BatchCodec.EnvelopeBytes..];
        Candidate[] candidates =
        [
            new("none", b => b, b => b),
            new("gzip Fastest", b => Gzip(b, CompressionLevel.Fastest), Gunzip),
            new("gzip Optimal", b => Gzip(b, CompressionLevel.Optimal), Gunzip),
            new("brotli 1", b => Brotli(b, 1), Unbrotli),
            new("brotli 4", b => Brotli(b, 4), Unbrotli),
            new("brotli 5", b => Brotli(b, 5), Unbrotli),
            new("brotli 6", b => Brotli(b, 6), Unbrotli),
        ];
        BatchCompression[] options = [BatchCompression.None, BatchCompression.Gzip, BatchCompression.Brotli];
        WarmUp(readings, body, candidates, options);

        var rows = new List<(Candidate Candidate, int Wire, double CompressMs, double DecompressMs)>();
        foreach (var candidate in candidates)
        {
            var compressed = candidate.Compress(body);
            Assert.Equal(body, candidate.Decompress(compressed));
            rows.Add((candidate, BatchCodec.EnvelopeBytes + compressed.Length, MedianMs(() => candidate.Compress(body)), MedianMs(() => candidate.Decompress(compressed))));
        }

        var jsonMs = MedianMs(() => Encode(readings, BatchCompression.None));
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{Readings} readings, payloads {readings.Min(r => r.Payload.Length)}-{readings.Max(r => r.Payload.Length)} bytes " +
            $"(mean {readings.Average(r => r.Payload.Length):0}), JSON body {body.Length:N0} bytes. " +
            $"{RuntimeInformation.OSDescription}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, median of {Rounds} runs.");
        table.AppendLine();
        table.AppendLine("| compression | wire bytes | ratio | compress ms | JSON + compress ms | decompress ms |");
        table.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (candidate, wire, compressMs, decompressMs) in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {candidate.Name} | {wire:N0} | {(double)(body.Length + BatchCodec.EnvelopeBytes) / wire:0.0}x | {compressMs:0.000} | {jsonMs + compressMs:0.000} | {decompressMs:0.000} |");
        }

        // The codec itself, end to end (JSON, compression, checks, copies): what the agent and the workers will pay.
        table.AppendLine();
        table.AppendLine("| BatchCodec option | wire bytes | Encode ms | Decode ms |");
        table.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var option in options)
        {
            var encoded = Encode(readings, option);
            Assert.Equal(Readings, encoded.ReadingsTaken);
            Assert.Equal(Readings, BatchCodec.Decode(encoded.Bytes).Readings.Count);
            var name = option switch
            {
                BatchCompression.Gzip => $"Gzip ({BatchCodec.GzipLevel})",
                BatchCompression.Brotli => $"Brotli (quality {BatchCodec.BrotliQuality})",
                _ => "None",
            };
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {name}{(option == BatchCodec.DefaultCompression ? ", the default" : "")} | {encoded.Bytes.Length:N0} | {MedianMs(() => Encode(readings, option)):0.000} | {MedianMs(() => BatchCodec.Decode(encoded.Bytes)):0.000} |");
        }

        // A full message: a backlog cut to the largest prefix under the AWS-sized limit.
        var backlog = Generate(20_000, seed: 2);
        var full = BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, backlog, BatchCodec.DefaultMaxWireBytes);
        var fullMs = MedianMs(() => BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, backlog, BatchCodec.DefaultMaxWireBytes), rounds: 20);
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture,
            $"A full message from a 20,000-reading backlog with the defaults: {full.ReadingsTaken:N0} readings in {full.Bytes.Length:N0} of " +
            $"{BatchCodec.DefaultMaxWireBytes:N0} bytes, Encode {fullMs:0.0} ms.");
        output.WriteLine(table.ToString());

        var defaultBatch = Encode(readings, BatchCodec.DefaultCompression);
        Assert.Equal(rows.Single(r => r.Candidate.Name == $"brotli {BatchCodec.BrotliQuality}").Wire, defaultBatch.Bytes.Length);
        // The design expects 6-12x: a full 500-reading batch must leave AWS IoT Core's 128 KB far behind.
        Assert.InRange((double)body.Length / defaultBatch.Bytes.Length, 6, 40);
        Assert.InRange(full.Bytes.Length, BatchCodec.DefaultMaxWireBytes * 0.98, BatchCodec.DefaultMaxWireBytes);
    }

    /// <summary>Runs everything for a while first, so the timings are of optimised code rather than of the JIT's first tier.</summary>
    private static void WarmUp(BatchReading[] readings, byte[] body, Candidate[] candidates, BatchCompression[] options)
    {
        var until = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            foreach (var candidate in candidates)
            {
                candidate.Decompress(candidate.Compress(body));
            }

            foreach (var option in options)
            {
                BatchCodec.Decode(Encode(readings, option).Bytes);
            }
        }

        // Start the timings with a clean heap rather than inherit the warm-up's garbage.
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    private static EncodedBatch Encode(BatchReading[] readings, BatchCompression compression) =>
        BatchCodec.Encode(GatewayId, Epoch, BatchLanes.Routine, readings, BatchCodec.DefaultMaxDecompressedBytes, compression);

    private static void AssertSeedLike(BatchReading[] readings)
    {
        foreach (var reading in readings)
        {
            using var document = JsonDocument.Parse(reading.Payload);
            var serial = SerialNumber.Parse(document.RootElement.GetProperty("serial").GetString()!);
            var validated = PayloadValidator.ValidateTelemetry(reading.Payload.Span, serial);
            Assert.True(validated.IsValid, validated.ErrorSummary());
        }

        Assert.Equal(Enumerable.Range(0, readings.Length).Select(i => FirstSequence + i), readings.Select(r => r.Sequence));
    }

    private static double MedianMs(Action action, int rounds = Rounds)
    {
        for (var i = 0; i < Math.Min(Warmup, rounds); i++)
        {
            action();
        }

        var samples = new double[rounds];
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            action();
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(samples);
        return samples[rounds / 2];
    }

    private static byte[] Gzip(byte[] body, CompressionLevel level)
    {
        using var output = new MemoryStream(body.Length / 4);
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new MemoryStream(compressed);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(compressed.Length * 12);
        gzip.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Brotli(byte[] body, int quality)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(body.Length));
        try
        {
            Assert.True(BrotliEncoder.TryCompress(body, buffer, out var written, quality, BatchCodec.BrotliWindow));
            return buffer.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Unbrotli(byte[] compressed)
    {
        using var input = new MemoryStream(compressed);
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(compressed.Length * 12);
        brotli.CopyTo(output);
        return output.ToArray();
    }
}
