using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Agent.Journal;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;
using Edge.Contracts.Tls;
using Edge.Contracts.Topics;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Uplink;

/// <summary>
/// Commit acks delete readings from the gateway's journal, so an ack must never name readings the gateway has not sent:
/// they were never stored, and deleting them loses them. A peer that may publish on the gateway's ack topic (a
/// worker's credentials, a buggy worker) publishes acks over the real broker; the agent honours only ranges it
/// published in this epoch, including those published before a restart.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class AckTrustTests
{
    private const string Serial = "OXY-9400-0001";
    private static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);

    [Fact]
    public async Task A_forged_ack_over_a_range_never_sent_deletes_nothing_and_is_counted()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var peer = await CloudPeer.ConnectAsync(broker);
        await using var agent = await InProcessAgent.StartAsync([.. CloudPeer.UplinkSettings(broker), "--Agent:Uplink:MaxInFlightBatches=1", "--Agent:Uplink:MaxReadingsPerBatch=10"]);
        await JournalReadingsAsync(agent, 30);

        // One batch goes out and waits for its ack (one in flight); the other readings have never left the gateway.
        var sent = await peer.NextBatchAsync();
        Assert.True(sent.LastSequence <= 10);

        // Acks the peer makes up: the whole lane, and exactly the readings not yet sent. Then the real batch's ack,
        // which the agent takes after the forged ones (one topic, QoS 1, in order).
        await peer.AckAsync(sent with { FirstSequence = 0, LastSequence = long.MaxValue });
        await peer.AckAsync(sent with { FirstSequence = sent.LastSequence + 1, LastSequence = 30 });
        await peer.AckAsync(sent);
        await Eventually.TrueAsync(async () => (await agent.Admin.StatusAsync()).Uplink.AckedReadings >= sent.Count, TimeSpan.FromSeconds(30), "the agent to take the acks");

        Assert.Equal(30 - sent.Count, agent.Journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        Assert.Equal(sent.Count, (await agent.Admin.StatusAsync()).Uplink.AckedReadings);
        Assert.Equal(2, MetricsEndpoint.Value(await MetricsAsync(agent), "edge_uplink_acks_refused_total"));
    }

    [Fact]
    public async Task An_ack_for_a_batch_published_before_a_restart_is_still_honoured_and_a_forged_one_still_refused()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var peer = await CloudPeer.ConnectAsync(broker);

        // Journal 30 readings with no uplink, so the first batch after the uplink comes up holds the first 20.
        var agent = await InProcessAgent.StartAsync();
        try
        {
            await JournalReadingsAsync(agent, 30);
            agent = await agent.RestartAsync([.. CloudPeer.UplinkSettings(broker), "--Agent:Uplink:MaxInFlightBatches=1", "--Agent:Uplink:MaxReadingsPerBatch=20"]);
            var beforeRestart = await peer.NextBatchAsync();
            Assert.Equal(20, beforeRestart.Count);

            // After the restart the agent sends batches of 5: in this run it has published only the first 5 readings.
            agent = await agent.RestartAsync([.. CloudPeer.UplinkSettings(broker), "--Agent:Uplink:MaxInFlightBatches=1", "--Agent:Uplink:MaxReadingsPerBatch=5"]);
            var afterRestart = await peer.NextBatchAsync();
            Assert.Equal(5, afterRestart.Count);
            Assert.Equal(beforeRestart.Epoch, afterRestart.Epoch);

            await peer.AckAsync(beforeRestart);
            await Eventually.TrueAsync(() => agent.Journal.Snapshot.EntriesPerLane[(int)Lane.Routine] == 10, TimeSpan.FromSeconds(30),
                "the agent to delete the 20 readings of the batch it published before the restart");

            await peer.AckAsync(beforeRestart with { FirstSequence = beforeRestart.LastSequence + 1, LastSequence = beforeRestart.LastSequence + 10 });
            await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await MetricsAsync(agent), "edge_uplink_acks_refused_total") == 1, TimeSpan.FromSeconds(30),
                "the agent to refuse the ack for readings it never sent");
            Assert.Equal(10, agent.Journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    private static async Task JournalReadingsAsync(InProcessAgent agent, int count)
    {
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        using var readings = new ReadingGenerator(SerialNumber.Parse(Serial), seed: 1, alarmRatio: 0);
        for (var i = 0; i < count; i++)
        {
            var result = await device.PublishAsync(DeviceTopics.Telemetry(Serial), readings.Next(Start.AddSeconds(i)).ToArray());
            Assert.Equal(MqttClientPublishReasonCode.Success, result.ReasonCode);
        }

        Assert.Equal(count, agent.Journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    private static async Task<string> MetricsAsync(InProcessAgent agent) => await agent.Admin.GetStringAsync("v1/metrics");
}
