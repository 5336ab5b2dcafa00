using System.Collections.Concurrent;
using System.Text.Json;
using Edge.Contracts.Uplink;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Uplink;

/// <summary>A client with a worker's identity: it sees every gateway's batches and may publish on any ack topic.</summary>
internal sealed class CloudPeer : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly ConcurrentQueue<DecodedBatch> _batches = new();

    private CloudPeer(IMqttClient client) => _client = client;

    /// <summary>Settings that point an in-process agent's uplink at <paramref name="broker"/> as the default gateway.</summary>
    public static string[] UplinkSettings(MosquittoServer broker)
    {
        var (certificate, key) = broker.IssueGateway(InProcessAgent.DefaultGatewayId);
        return
        [
            "--Agent:Uplink:Host=localhost",
            $"--Agent:Uplink:Port={broker.Port}",
            $"--Agent:Uplink:CaPath={broker.Ca.CaPath}",
            $"--Agent:Uplink:CertificatePath={certificate}",
            $"--Agent:Uplink:KeyPath={key}",
            // No re-send during a test: what the peer sees is what the agent published once.
            "--Agent:Uplink:AckTimeoutSeconds=3600",
        ];
    }

    public static async Task<CloudPeer> ConnectAsync(MosquittoServer broker)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var peer = new CloudPeer(client);
        client.ApplicationMessageReceivedAsync += args =>
        {
            peer._batches.Enqueue(BatchCodec.Decode(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
        await client.ConnectAsync(broker.WorkerClient("forging-peer").Build());
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(UplinkTopics.Telemetry(InProcessAgent.DefaultGatewayId), MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        return peer;
    }

    public async Task<BatchHeader> NextBatchAsync() => (await NextDecodedAsync()).Header;

    public async Task<DecodedBatch> NextDecodedAsync()
    {
        DecodedBatch? batch = null;
        await Eventually.TrueAsync(() => _batches.TryDequeue(out batch), TimeSpan.FromSeconds(30), "a batch from the agent");
        return batch!;
    }

    public async Task AckAsync(BatchHeader batch)
    {
        var ack = new CommitAck(batch.GatewayId, batch.Epoch, batch.Lane, batch.FirstSequence, batch.LastSequence, CommitAck.StatusStored, batch.Count, 0, 0);
        var result = await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(UplinkTopics.Ack(batch.GatewayId))
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(ack, UplinkJsonContext.Default.CommitAck))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        Assert.True(result.IsSuccess, $"the broker refused the ack: {result.ReasonCode}");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
    }
}
