using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MQTTnet.Server;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>A real MQTTnet broker on a free loopback port, recording every publish it accepted or refused.</summary>
internal sealed class InProcessBroker : IAsyncDisposable
{
    readonly MqttServer _server;

    InProcessBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Every publish the broker saw, in arrival order: client id, topic, payload bytes.</summary>
    public ConcurrentQueue<ReceivedPublish> Received { get; } = new();

    /// <summary>Starts a broker. <paramref name="onPublish"/> may refuse a publish (set Response.ReasonCode) or drop the connection.</summary>
    public static async Task<InProcessBroker> StartAsync(
        Action<InterceptingPublishEventArgs>? onPublish = null,
        Action<ValidatingConnectionEventArgs>? onConnect = null)
    {
        var port = FreePort.Next();
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(options);
        var broker = new InProcessBroker(server, port);
        server.InterceptingPublishAsync += args =>
        {
            broker.Received.Enqueue(new ReceivedPublish(args.ClientId, args.ApplicationMessage.Topic, args.ApplicationMessage.Payload.ToArray()));
            onPublish?.Invoke(args);
            return Task.CompletedTask;
        };
        if (onConnect is not null)
        {
            server.ValidatingConnectionAsync += args =>
            {
                onConnect(args);
                return Task.CompletedTask;
            };
        }

        await server.StartAsync();
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(new MqttServerStopOptions());
        _server.Dispose();
    }
}

internal sealed record ReceivedPublish(string ClientId, string Topic, byte[] Payload);
