using System.Text;
using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>
/// The agent refuses to start when a payload of Agent:Broker:MaxPayloadBytes could not fit a batch of
/// Agent:Uplink:MaxBatchBytes, using <see cref="BatchCodec.MaxOneReadingOverheadBytes"/>. The bound must hold for the
/// worst case: incompressible payloads, the longest gateway id, serial and sequence numbers, every compression.
/// </summary>
public sealed class OneReadingOverheadTests
{
    [Theory]
    [InlineData(1024, BatchCompression.Brotli)]
    [InlineData(65536, BatchCompression.Brotli)]
    [InlineData(1_000_000, BatchCompression.Brotli)]
    [InlineData(65536, BatchCompression.Gzip)]
    [InlineData(65536, BatchCompression.None)]
    public void A_payload_of_P_bytes_always_fits_a_wire_limit_of_P_plus_the_overhead(int payloadBytes, BatchCompression compression)
    {
        var payload = IncompressibleJsonString(payloadBytes, seed: payloadBytes);
        var reading = new BatchReading(long.MaxValue, "BIPAP-9999-9999", new DateTimeOffset(9998, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999), payload);
        var gatewayId = new string('g', 64);

        var encoded = BatchCodec.Encode(gatewayId, long.MaxValue, BatchLanes.Routine, [reading], payloadBytes + BatchCodec.MaxOneReadingOverheadBytes, compression);

        Assert.Equal(1, encoded.ReadingsTaken);
        Assert.True(encoded.Bytes.Length <= payloadBytes + BatchCodec.MaxOneReadingOverheadBytes, $"{encoded.Bytes.Length} wire bytes for a {payloadBytes}-byte payload");
    }

    // A JSON string of random printable ASCII (no escapes): about as incompressible as valid JSON gets.
    private static byte[] IncompressibleJsonString(int bytes, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(bytes).Append('"');
        while (text.Length < bytes - 1)
        {
            var c = (char)random.Next(0x20, 0x7F);
            if (c is not ('"' or '\\'))
            {
                text.Append(c);
            }
        }

        return Encoding.ASCII.GetBytes(text.Append('"').ToString());
    }
}
