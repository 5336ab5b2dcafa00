using Edge.Agent.Broker;
using Edge.Contracts.Topics;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Edge.Agent.Downlink;

/// <summary>
/// Publishes the agent's messages to devices through the embedded broker, retained and QoS 1: a device that is offline
/// gets the latest config or firmware offer the moment it subscribes. The broker keeps retained messages in memory
/// only, so <see cref="DeviceStateRestorer"/> publishes them again from the journal database after a restart.
/// </summary>
internal sealed class DevicePublisher(DeviceBroker broker)
{
    public Task PublishConfigAsync(string serial, byte[] message, CancellationToken cancellationToken) =>
        PublishRetainedAsync(DeviceTopics.Config(serial), message, cancellationToken);

    public Task PublishFirmwareAsync(string serial, byte[] message, CancellationToken cancellationToken) =>
        PublishRetainedAsync(DeviceTopics.Firmware(serial), message, cancellationToken);

    private Task PublishRetainedAsync(string topic, byte[] message, CancellationToken cancellationToken)
    {
        var application = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(message)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag()
            .Build();

        // No sender client id: the ingest pipeline lets the agent's own messages through (devices' are consumed there).
        return broker.Server.InjectApplicationMessage(new InjectedMqttApplicationMessage(application) { SenderClientId = string.Empty }, cancellationToken);
    }
}
