using System.Text;
using Edge.Contracts.Uplink;
using Edge.Testing;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Broker;

/// <summary>
/// Attacks on the cloud broker (real mosquitto with the shipped configuration and ACLs) by someone who holds a gateway
/// certificate: reading other gateways' data, and taking over another client's session by its client id.
/// </summary>
public sealed class CloudBrokerAttackTests : IAsyncLifetime
{
    private MosquittoServer _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoServer.StartNewAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task A_gateway_certificate_named_like_the_worker_reads_no_other_gateways_batches()
    {
        // Issued by the CA that signs gateways (a technician's CSR, or make-secrets.sh sign-gateway before ids were reserved).
        using var attacker = await ConnectGatewayListenerAsync(MosquittoServer.WorkerIdentity, "stolen-worker");
        var received = new List<string>();
        var delivered = new TaskCompletionSource();
        attacker.ApplicationMessageReceivedAsync += e =>
        {
            lock (received)
            {
                received.Add(e.ApplicationMessage.Topic);
            }
            delivered.TrySetResult();
            return Task.CompletedTask;
        };

        // mosquitto's ACL file does not check subscriptions (its SUBACK grants them); what it refuses is delivering a
        // message the subscriber may not read, which is what this asserts.
        await attacker.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic("edge/v1/+/telemetry").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
            .WithTopicFilter(f => f.WithTopic("edge/v1/#").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
            .Build());

        // The real worker, on its own listener, gets the gateway's batch: once it has, the attacker would have too.
        using var worker = await ConnectWorkerAsync("ingest-test-0");
        worker.ApplicationMessageReceivedAsync += _ =>
        {
            delivered.TrySetResult();
            return Task.CompletedTask;
        };
        await worker.SubscribeAsync(UplinkTopics.SharedSubscription("ingest", UplinkTopicKind.Telemetry), MqttQualityOfServiceLevel.AtLeastOnce);
        using var gateway = await ConnectGatewayListenerAsync("gw-north", "gw-north");
        await gateway.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(UplinkTopics.For("gw-north", UplinkTopicKind.Telemetry))
            .WithPayload(Encoding.UTF8.GetBytes("batch"))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        await delivered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        lock (received)
        {
            Assert.Empty(received);
        }
    }

    [Fact]
    public async Task A_gateway_cannot_take_over_another_gateways_session_by_its_client_id()
    {
        using var victim = await ConnectGatewayListenerAsync("gw-south", "gw-south");
        var victimDropped = new TaskCompletionSource();
        victim.DisconnectedAsync += _ =>
        {
            victimDropped.TrySetResult();
            return Task.CompletedTask;
        };

        using var attacker = await ConnectGatewayListenerAsync("gw-north", clientId: "gw-south");

        // The victim still works after the attacker's CONNACK: a QoS 1 round trip on its own topic.
        await victim.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(UplinkTopics.For("gw-south", UplinkTopicKind.Events)).WithPayload("{}"u8.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(victim.IsConnected);
        Assert.False(victimDropped.Task.IsCompleted);
    }

    [Fact]
    public async Task A_gateway_cannot_take_over_the_workers_session_by_its_client_id()
    {
        using var worker = await ConnectWorkerAsync("ingest-local-0");
        var workerDropped = new TaskCompletionSource();
        worker.DisconnectedAsync += _ =>
        {
            workerDropped.TrySetResult();
            return Task.CompletedTask;
        };

        using var attacker = await ConnectGatewayListenerAsync("gw-north", clientId: "ingest-local-0");

        await worker.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(UplinkTopics.For("gw-north", UplinkTopicKind.Ack)).WithPayload("{}"u8.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(worker.IsConnected);
        Assert.False(workerDropped.Task.IsCompleted);
    }

    private Task<IMqttClient> ConnectGatewayListenerAsync(string gatewayId, string clientId) => ConnectAsync(_broker.GatewayClient(gatewayId, clientId));

    private Task<IMqttClient> ConnectWorkerAsync(string clientId) => ConnectAsync(_broker.WorkerClient(clientId));

    // Persistent sessions, as gateways and workers keep them: the session is what a takeover would steal.
    private static async Task<IMqttClient> ConnectAsync(MqttClientOptionsBuilder options)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(options.WithCleanStart(false).WithSessionExpiryInterval(300).Build());
        return client;
    }
}
