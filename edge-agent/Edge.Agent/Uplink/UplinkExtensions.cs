using Edge.Contracts.Uplink;

namespace Edge.Agent.Uplink;

/// <summary>What a feature may do with the cloud link: publish (QoS 1) and wait for the link to be up.</summary>
internal interface IUplinkChannel
{
    string GatewayId { get; }

    bool IsConnected { get; }

    /// <summary>How many times the link has come up; a change means a new connection (perhaps a new broker session).</summary>
    long Connections { get; }

    Task WaitConnectedAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Waits for room in the connection's pacing budget (<paramref name="priority"/> decides who goes first), publishes
    /// QoS 1 and returns once the broker has it. Throws <see cref="UplinkMessageTooLargeException"/> for a message above
    /// <see cref="UplinkOptions.MaxBatchBytes"/>, and another exception when the link is down or the broker refuses.
    /// </summary>
    Task PublishAsync(string topic, byte[] payload, UplinkPriority priority, CancellationToken cancellationToken);

    /// <summary>Drops the connection so the supervisor reconnects at once, presenting the client certificate as it is now.</summary>
    Task ReconnectAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Handles one cloud-to-gateway topic (<c>edge/v1/{gatewayId}/{kind}</c>). The connection subscribes to it and sends the
/// broker's PUBACK only after <see cref="HandleAsync"/> returns, so a handler that persists first loses nothing on a crash.
/// A handler that throws is logged; the message is acknowledged anyway (a poisoned message must not wedge the link).
/// </summary>
internal interface IDownlinkHandler
{
    UplinkTopicKind Kind { get; }

    ValueTask HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}

/// <summary>A loop that sends something over the uplink besides telemetry batches (events, report uploads); runs while the uplink runs.</summary>
internal interface IUplinkWorker
{
    Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken);
}
