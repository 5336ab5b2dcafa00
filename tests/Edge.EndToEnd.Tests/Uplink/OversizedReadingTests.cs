using System.Text.Json.Nodes;
using Edge.Agent.Journal;
using Edge.Cli.Simulate;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.EndToEnd.Tests.Uplink;

/// <summary>
/// A reading no batch can carry (journaled while Agent:Broker:MaxPayloadBytes allowed it, then the limits were lowered)
/// must not hold its lane forever: it is set aside as a dead letter with its reason and counted, and the readings behind
/// it are sent.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class OversizedReadingTests
{
    private const string Serial = "OXY-9400-0002";
    private static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);

    [Fact]
    public async Task A_reading_too_large_for_any_batch_is_dead_lettered_and_counted_and_the_lane_moves_on()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var peer = await CloudPeer.ConnectAsync(broker);

        // Journaled with the default 64 KiB payload limit and no uplink: a small reading, a 40 KB one, a small one.
        var agent = await InProcessAgent.StartAsync();
        try
        {
            await using (var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial)))
            {
                using var readings = new ReadingGenerator(SerialNumber.Parse(Serial), seed: 2, alarmRatio: 0);
                foreach (var (second, extraBytes) in new[] { (0, 0), (1, 40_000), (2, 0) })
                {
                    var reading = JsonNode.Parse(readings.Next(Start.AddSeconds(second)).ToArray())!.AsObject();
                    if (extraBytes > 0)
                    {
                        // Unknown fields are allowed (newer firmware); random text does not compress.
                        reading["vendor_trace"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(extraBytes * 3 / 4));
                    }

                    var result = await device.PublishAsync(DeviceTopics.Telemetry(Serial), System.Text.Encoding.UTF8.GetBytes(reading.ToJsonString()));
                    Assert.Equal(MqttClientPublishReasonCode.Success, result.ReasonCode);
                }
            }

            // Now a payload limit of 4 KiB and messages of at most 8 KiB: valid together, and the 40 KB reading fits no batch.
            agent = await agent.RestartAsync([.. CloudPeer.UplinkSettings(broker), "--Agent:Broker:MaxPayloadBytes=4096", "--Agent:Uplink:MaxBatchBytes=8192"]);

            var sent = new List<long>();
            while (sent.Count < 2)
            {
                var batch = await peer.NextDecodedAsync();
                sent.AddRange(batch.Readings.Select(r => r.Sequence));
                await peer.AckAsync(batch.Header);
            }

            Assert.Equal([1, 3], sent);
            await Eventually.TrueAsync(() => agent.Journal.Snapshot.EntriesPerLane[(int)Lane.Routine] == 0, TimeSpan.FromSeconds(30), "the acked readings to leave the journal");
            var letter = Assert.Single(agent.Journal.ListDeadLetters(10));
            Assert.Equal("TooLargeForUplink", letter.Letter.ReasonCode);
            Assert.Contains("Agent:Uplink:MaxBatchBytes (8192)", letter.Letter.Reason, StringComparison.Ordinal);
            Assert.Equal(Serial, letter.Letter.ClientId);
            var metrics = await agent.Admin.GetStringAsync("v1/metrics");
            Assert.Equal(1, MetricsEndpoint.Value(metrics, "edge_uplink_readings_dead_lettered_total", "reason=\"too_large_for_uplink\""));
            Assert.Equal(0, MetricsEndpoint.Value(metrics, "edge_uplink_readings_dead_lettered_total", "reason=\"dead_lettered_in_cloud\""));

            // edgectl agent status says the same, with every other way of not storing a reading at 0.
            var notStored = (await agent.Admin.StatusAsync()).NotStored!;
            Assert.Equal(1, notStored[NotStoredReasons.TooLargeForUplink]);
            Assert.Equal(1, notStored.Values.Sum());
            using var text = new StringWriter();
            Edge.Cli.Agent.StatusView.Write(await agent.Admin.StatusAsync(), text);
            Assert.Matches(@"Not stored\s+1 too large for uplink\r?\n", text.ToString());
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }
}
