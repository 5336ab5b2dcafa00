using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Protocol;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>A real MQTT client acting as one device against the agent's broker: client id and user name are the serial.</summary>
internal sealed class MqttDevice : IAsyncDisposable
{
    readonly IMqttClient _client;

    MqttDevice(IMqttClient client) => _client = client;

    /// <summary>Connects and stays connected; throws when the broker refuses.</summary>
    public static async Task<MqttDevice> ConnectAsync(int port, string serial, string secret)
    {
        var (client, code) = await TryConnectCoreAsync(port, serial, secret);
        return client is not null
            ? new MqttDevice(client)
            : throw new InvalidOperationException($"{serial} could not connect to 127.0.0.1:{port}: {code}");
    }

    /// <summary>Connects, then disconnects at once: what the broker says about this serial and secret.</summary>
    public static async Task<MqttClientConnectResultCode> TryConnectAsync(int port, string serial, string secret)
    {
        var (client, code) = await TryConnectCoreAsync(port, serial, secret);
        if (client is not null)
        {
            await using var device = new MqttDevice(client);
        }

        return code;
    }

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

    static async Task<(IMqttClient? Client, MqttClientConnectResultCode Code)> TryConnectCoreAsync(int port, string serial, string secret)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(serial)
            .WithCredentials(serial, secret)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        MqttClientConnectResultCode code;
        try
        {
            code = (await client.ConnectAsync(options)).ResultCode;
        }
        catch (MqttConnectingFailedException)
        {
            // MQTTnet 5 returns a broker's refusal as a result; this is a transport failure, with no CONNACK to read.
            code = MqttClientConnectResultCode.UnspecifiedError;
        }

        if (code == MqttClientConnectResultCode.Success)
        {
            return (client, code);
        }

        client.Dispose();
        return (null, code);
    }
}
