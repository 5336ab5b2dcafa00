using Edge.Contracts.Uplink;

namespace Edge.Ingest.Broker;

/// <summary>
/// Handles one gateway-to-cloud topic besides telemetry (<c>edge/v1/+/{kind}</c>, events, upload requests). The ingest
/// worker subscribes to it through the same shared group and sends the broker's PUBACK only after
/// <see cref="HandleAsync"/> returns; a handler that throws is retried with backoff, like a telemetry batch that
/// fails to store, so it must be idempotent and must handle bad input itself (record it and return).
/// </summary>
internal interface IGatewayMessageHandler
{
    UplinkTopicKind Kind { get; }

    Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken);
}

/// <summary>Publishes QoS 1 to a gateway (acks, responses); throws when the broker refuses.</summary>
internal interface ICloudPublisher
{
    Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken);
}
