using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Edge.Testing.Mqtt;

/// <summary>A real MQTT client acting as one device.</summary>
public sealed class TestDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;

    private TestDevice(IMqttClient client, string serial)
    {
        _client = client;
        Serial = serial;
    }

    public string Serial { get; }

    public IMqttClient Client => _client;

    /// <summary>Connects from <paramref name="from"/> (a loopback address such as 127.0.0.2; default 127.0.0.1).</summary>
    public static async Task<(TestDevice? Device, MqttClientConnectResultCode Code, string? Reason)> TryConnectAsync(
        int port, string serial, string? secret, string? clientId = null, MqttProtocolVersion protocol = MqttProtocolVersion.V500, System.Net.IPAddress? from = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId ?? serial)
            .WithCredentials(serial, secret)
            .WithProtocolVersion(protocol)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        if (from is not null)
        {
            ((MqttClientTcpOptions)options.ChannelOptions).LocalEndpoint = new System.Net.IPEndPoint(from, 0);
        }

        try
        {
            var result = await client.ConnectAsync(options);
            if (result.ResultCode == MqttClientConnectResultCode.Success)
            {
                return (new TestDevice(client, serial), result.ResultCode, null);
            }

            client.Dispose();
            return (null, result.ResultCode, result.ReasonString);
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
        {
            // MQTTnet 5 returns refusals as results; this is a transport failure.
            client.Dispose();
            return (null, MqttClientConnectResultCode.UnspecifiedError, ex.Message);
        }
    }

    public static async Task<TestDevice> ConnectAsync(int port, string serial, string secret, MqttProtocolVersion protocol = MqttProtocolVersion.V500)
    {
        var (device, code, reason) = await TryConnectAsync(port, serial, secret, protocol: protocol);
        return device ?? throw new InvalidOperationException($"{serial} could not connect: {code} {reason}");
    }

    /// <summary>Connects, reports the broker's answer, disconnects: for tests that only check a login.</summary>
    public static async Task<MqttClientConnectResultCode> CheckLoginAsync(int port, string serial, string? secret)
    {
        var (device, code, _) = await TryConnectAsync(port, serial, secret);
        if (device is not null)
        {
            await device.DisposeAsync();
        }

        return code;
    }

    /// <summary>Subscribes (QoS 1) and collects every message received on <paramref name="topic"/>, retained ones included.</summary>
    public async Task<System.Threading.Channels.ChannelReader<string>> SubscribeAsync(string topic)
    {
        var received = System.Threading.Channels.Channel.CreateUnbounded<string>();
        _client.ApplicationMessageReceivedAsync += args =>
        {
            if (args.ApplicationMessage.Topic == topic)
            {
                received.Writer.TryWrite(args.ApplicationMessage.ConvertPayloadToString());
            }

            return Task.CompletedTask;
        };
        var result = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var code = result.Items.Single().ResultCode;
        if (code > MqttClientSubscribeResultCode.GrantedQoS2)
        {
            throw new InvalidOperationException($"{Serial} could not subscribe to {topic}: {code}");
        }

        return received.Reader;
    }

    public Task<MqttClientPublishResult> PublishAsync(string topic, string payload) =>
        PublishAsync(topic, Encoding.UTF8.GetBytes(payload));

    public Task<MqttClientPublishResult> PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}
