using System.Globalization;
using System.IO.Compression;
using System.Text;
using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>Seed-shaped readings of a small clinic, as a gateway journal holds them: consecutive sequences, values that wander.</summary>
internal static class UplinkReadings
{
    public const string GatewayId = "gw-clinic-042";
    public const long Epoch = 1_734_120_042_000_117;
    public const long FirstSequence = 120_001;

    public static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);

    // Four devices of each payload shape, so a batch interleaves serials the way a busy clinic's journal does.
    private static readonly string[] Serials =
    [
        "CPAP-2301-9912", "OXY-8844-5521", "ECG-7711-0045", "BIPAP-2301-7710",
        "CPAP-2301-9913", "OXY-8844-5522", "ECG-7711-0046", "CPAP-2301-9914",
        "OXY-8844-5523", "ECG-7711-0047", "OXY-8844-5524", "ECG-7711-0048",
    ];

    /// <summary><paramref name="count"/> readings, about 200 bytes each, received 250 ms apart on average.</summary>
    public static BatchReading[] Generate(int count, int seed = 1, long firstSequence = FirstSequence)
    {
        var random = new Random(seed);
        var readings = new BatchReading[count];
        var at = Start;
        for (var i = 0; i < count; i++)
        {
            at = at.AddMilliseconds(random.Next(120, 380));
            var serial = Serials[random.Next(Serials.Length)];
            var deviceTime = at.AddMilliseconds(-random.Next(5, 40));
            var payload = serial[..serial.IndexOf('-', StringComparison.Ordinal)] switch
            {
                "CPAP" or "BIPAP" => Cpap(random, serial, deviceTime),
                "OXY" => Oxygen(random, serial, deviceTime),
                _ => Ecg(random, serial, deviceTime),
            };
            readings[i] = new BatchReading(firstSequence + i, serial, at, Encoding.UTF8.GetBytes(payload));
        }

        return readings;
    }

    /// <summary>An envelope with the given version and compression byte followed by <paramref name="body"/>.</summary>
    public static byte[] Wire(BatchCompression compression, ReadOnlySpan<byte> body, byte version = BatchCodec.FormatVersion) =>
        [.. "EDGB"u8, version, (byte)compression, .. body];

    /// <summary><paramref name="body"/> compressed the way the codec does it, behind an envelope.</summary>
    public static byte[] CompressedWire(BatchCompression compression, ReadOnlySpan<byte> body)
    {
        switch (compression)
        {
            case BatchCompression.Gzip:
                using (var output = new MemoryStream())
                {
                    using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        gzip.Write(body);
                    }

                    return Wire(compression, output.ToArray());
                }

            case BatchCompression.Brotli:
                var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(body.Length)];
                Assert.True(BrotliEncoder.TryCompress(body, buffer, out var written, 4, 22));
                return Wire(compression, buffer.AsSpan(0, written));
            default:
                return Wire(compression, body);
        }
    }

    private static string Cpap(Random random, string serial, DateTimeOffset at) => Invariant(
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"pressure_cm_h2o":{{Between(random, 8, 16):0.0}},"respiratory_rate":{{random.Next(12, 21)}},"leak_rate_lpm":{{Between(random, 8, 28):0.0}},"patient_mode":"{{(serial.StartsWith('B') ? "ST" : "AutoCPAP")}}"},"firmware":"v4.2.1"}""");

    private static string Oxygen(Random random, string serial, DateTimeOffset at) => Invariant(
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"oxygen_purity_pct":{{Between(random, 91, 96):0.0}},"flow_rate_lpm":{{Between(random, 2, 3):0.0}},"temperature_c":{{Between(random, 36.5, 37.8):0.0}},"battery_pct":{{random.Next(60, 100)}},"alarm_code":{{(random.Next(40) == 0 ? "\"LOW_PURITY\"" : "null")}}},"status":"online"}""");

    private static string Ecg(Random random, string serial, DateTimeOffset at) => Invariant(
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"heart_rate_bpm":{{random.Next(58, 96)}},"qrs_ms":{{random.Next(84, 104)}},"qt_ms":{{random.Next(360, 420)}},"arrhythmia":"{{(random.Next(50) == 0 ? "PVC" : "none")}}","signal_quality":"good"},"lead":"II"}""");

    private static double Between(Random random, double min, double max) => min + (random.NextDouble() * (max - min));

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
