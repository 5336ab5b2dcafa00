using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;

namespace Edge.Agent.Broker.Listener;

/// <summary>
/// MQTTnet's channel adapter for one device connection, with the CONNACK's Receive Maximum set to
/// <see cref="BrokerOptions.ReceiveMaximum"/>: MQTTnet 5.2 has no setting for it and always sends none, which tells an
/// MQTT 5 device it may have 65,535 QoS 1 publishes unacknowledged. A device whose PUBACKs are lost re-sends all of
/// them; the journal recognises re-sends only within the readings it remembers per device, which is this number.
/// MQTT 3.1.1 has no such field: a 3.1.1 CONNACK goes out unchanged.
/// </summary>
internal sealed class ReceiveMaximumAdapter(IMqttChannelAdapter inner, int receiveMaximum) : IMqttChannelAdapter
{
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

    public Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken) => inner.ReceivePacketAsync(cancellationToken);

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        if (packet is MqttConnAckPacket connAck)
        {
            connAck.ReceiveMaximum = (ushort)receiveMaximum;
        }

        return inner.SendPacketAsync(packet, cancellationToken);
    }
}
