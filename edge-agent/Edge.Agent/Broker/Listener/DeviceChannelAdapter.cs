using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Edge.Agent.Broker.Listener;

/// <summary>
/// MQTTnet's channel adapter for one device connection, with the per-connection bounds MQTTnet 5.2 has no setting for.
/// Decoded packets pass here on their way in and out, so the checks cost a type test per packet:
/// <list type="bullet">
/// <item>Topic aliases: MQTTnet's CONNACK always advertises 65,535 and its server keeps every alias a client defines
/// (each with a topic of up to 64 KiB). The CONNACK is rewritten to <see cref="BrokerOptions.MaxTopicAliases"/>, and a
/// PUBLISH with a larger alias ends the connection (MQTT 5: DISCONNECT "topic alias invalid") before MQTTnet stores it.</item>
/// <item>Receive maximum: MQTTnet's CONNACK advertises none, which tells an MQTT 5 device it may have 65,535 QoS 1
/// publishes unacknowledged; a device whose PUBACKs are lost re-sends them all, and the journal recognises re-sends only
/// within the readings it remembers per device. The CONNACK is rewritten to <see cref="BrokerOptions.ReceiveMaximum"/>
/// (MQTT 3.1.1 has no such field).</item>
/// <item>Unanswered packets: MQTTnet queues a PUBACK (or SUBACK, PINGRESP, …) per request without a bound; a client
/// that sends and never reads would grow that queue until memory ran out. Past <see cref="MaxUnanswered"/> requests
/// whose answers have not been written, the connection ends.</item>
/// <item>A device closed by <see cref="RefusalLimiter"/> gets DISCONNECT "message rate too high" rather than MQTTnet's
/// "unspecified error".</item>
/// </list>
/// </summary>
internal sealed class DeviceChannelAdapter(IMqttChannelAdapter inner, int maxTopicAliases, int receiveMaximum, RefusalLimiter refusals) : IMqttChannelAdapter
{
    /// <summary>
    /// Requests (QoS 1/2 publishes, PUBREL, SUBSCRIBE, UNSUBSCRIBE, PINGREQ) whose answer is still queued. A device waits for
    /// its PUBACKs (MQTTnet clients one at a time, others a window of tens), so 1,000 is only reached by a client that
    /// does not read; it bounds the queue to ~1,000 small packets (a PUBACK's reason string is at most 256 characters).
    /// </summary>
    public const int MaxUnanswered = 1000;

    private string? _clientId;
    private int _unanswered;

    /// <summary>Why the connection was closed here (a <see cref="ListenerMetrics"/> reason), and the detail for the log.</summary>
    public (string Code, string Reason)? Closed { get; private set; }

    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public void ResetStatistics() => inner.ResetStatistics();

    public void Dispose() => inner.Dispose();

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        var packet = await inner.ReceivePacketAsync(cancellationToken);
        switch (packet)
        {
            case MqttPublishPacket publish:
                if (publish.TopicAlias > maxTopicAliases)
                {
                    // Null tells MQTTnet the connection has ended: the alias is never stored.
                    await CloseAsync(ListenerMetrics.TopicAlias, MqttDisconnectReasonCode.TopicAliasInvalid,
                        $"topic alias {publish.TopicAlias} is above the {maxTopicAliases} the CONNACK allowed (Agent:Broker:MaxTopicAliases)", cancellationToken);
                    return null!;
                }

                if (publish.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce && !await AwaitingAnswerAsync(cancellationToken))
                {
                    return null!;
                }

                break;
            case MqttPubRelPacket or MqttSubscribePacket or MqttUnsubscribePacket or MqttPingReqPacket:
                if (!await AwaitingAnswerAsync(cancellationToken))
                {
                    return null!;
                }

                break;
            case MqttConnectPacket connect:
                _clientId = connect.ClientId;
                break;
        }

        return packet;
    }

    public async Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        switch (packet)
        {
            case MqttConnAckPacket connAck:
                connAck.TopicAliasMaximum = (ushort)maxTopicAliases;
                connAck.ReceiveMaximum = (ushort)receiveMaximum;
                break;
            case MqttDisconnectPacket { ReasonCode: MqttDisconnectReasonCode.UnspecifiedError } disconnect when _clientId is not null && refusals.TakeDisconnect(_clientId):
                disconnect.ReasonCode = MqttDisconnectReasonCode.MessageRateTooHigh;
                disconnect.ReasonString = "too many refused publishes (Agent:Broker:MaxRefusals); fix what is refused before reconnecting";
                break;
        }

        await inner.SendPacketAsync(packet, cancellationToken);
        if (packet is MqttPubAckPacket or MqttPubRecPacket or MqttPubCompPacket or MqttSubAckPacket or MqttUnsubAckPacket or MqttPingRespPacket)
        {
            Interlocked.Decrement(ref _unanswered);
        }
    }

    // Counts a request in; false (and the connection closed) when too many answers are still waiting to be written.
    private async Task<bool> AwaitingAnswerAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _unanswered) <= MaxUnanswered)
        {
            return true;
        }

        await CloseAsync(ListenerMetrics.NotReading, MqttDisconnectReasonCode.ReceiveMaximumExceeded,
            $"more than {MaxUnanswered} answers are waiting to be written: the client does not read them", cancellationToken);
        return false;
    }

    private async Task CloseAsync(string code, MqttDisconnectReasonCode reasonCode, string reason, CancellationToken cancellationToken)
    {
        Closed = (code, reason);
        if (PacketFormatterAdapter.ProtocolVersion != MqttProtocolVersion.V500 || code == ListenerMetrics.NotReading)
        {
            return; // MQTT 3.1.1 has no server DISCONNECT; a client that does not read would not get one either
        }

        try
        {
            await inner.SendPacketAsync(new MqttDisconnectPacket { ReasonCode = reasonCode, ReasonString = reason }, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // The connection is closing anyway; the reason is logged and counted by the listener.
        }
    }
}
