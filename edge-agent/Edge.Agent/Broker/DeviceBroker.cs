using System.Net;
using System.Net.Security;
using Edge.Agent.Broker.Listener;
using Edge.Agent.Ingest;
using Edge.Contracts.Devices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Server;

namespace Edge.Agent.Broker;

/// <summary>
/// The MQTTnet server devices connect to: TLS listener, optional plain listener (both <see cref="DeviceListener"/>,
/// which bounds what a client can cost before it authenticates), auth, ACL and ingest.
/// </summary>
internal sealed class DeviceBroker(
    DeviceAuthenticator authenticator,
    TopicAcl acl,
    IngestPipeline ingest,
    ConnectedDevices connected,
    Presence.DevicePresence presence,
    ConnectionLimits limits,
    ListenerMetrics listenerMetrics,
    RefusalLimiter refusals,
    Tls.ServerCertificate serverCertificate,
    IOptions<BrokerOptions> options,
    IOptions<Reports.ReportOptions> reports,
    TimeProvider time,
    ILogger<DeviceBroker> logger) : IHostedService, IDisposable
{
    /// <summary>
    /// Messages queued for one device (configs, firmware offers, retained ones at subscribe), the oldest dropped past it.
    /// Only the agent publishes to devices, one config and one firmware offer each, so a handful is the most ever queued.
    /// </summary>
    public const int MaxPendingMessagesPerClient = 100;

    private readonly BrokerOptions _options = options.Value;
    private MqttServer? _server;

    /// <summary>The running server, for features that publish to devices (config push).</summary>
    public MqttServer Server => _server ?? throw new InvalidOperationException("The device broker has not started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var address = IPAddress.Parse(_options.BindAddress);
        var builder = new MqttServerOptionsBuilder()
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(MaxPendingMessagesPerClient)
            .WithoutDefaultEndpoint();
        var endpoints = new List<string>();
        if (_options.Port > 0)
        {
            endpoints.Add($"mqtt://{address}:{_options.Port}");
        }

        // TLS is always on: with the operator's certificate, or with the agent's own (created at first start).
        serverCertificate.Load();
        RemoteCertificateValidationCallback? validateClient = null;
        if (_options.Tls.ClientCaPath is { } caPath)
        {
            var ca = Edge.Contracts.Tls.PemTls.LoadBundle(caPath);
            validateClient = (_, presented, _, _) => TlsMaterial.IsIssuedBy(presented, ca);
        }

        endpoints.Add($"mqtts://{address}:{_options.Tls.Port}");

        var listener = new DeviceListener(_options, _options.PacketLimit(reports.Value.MaxPdfPublishBytes), () => serverCertificate.Current, validateClient, limits, listenerMetrics, refusals, time, logger);
        _server = new MqttServerFactory().CreateMqttServer(builder.Build(), [listener]);
        _server.ValidatingConnectionAsync += authenticator.ValidateAsync;
        _server.InterceptingSubscriptionAsync += acl.AuthorizeSubscriptionAsync;
        _server.InterceptingPublishAsync += ingest.HandleAsync;
        _server.ClientConnectedAsync += OnConnectedAsync;
        _server.ClientDisconnectedAsync += OnDisconnectedAsync;
        presence.Restore();
        await _server.StartAsync();
        Log.BrokerStarted(logger, string.Join(", ", endpoints));
        if (_options.Port > 0)
        {
            Log.PlainListenerOn(logger, $"{address}:{_options.Port}", _options.Tls.Port);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null)
        {
            return;
        }

        // Stop accepting first: a publish in flight finishes its journal commit and gets its PUBACK.
        _server.AcceptNewConnections = false;
        presence.Stop();
        await _server.StopAsync(new MqttServerStopOptions());
        Log.BrokerStopped(logger);
    }

    public void Dispose() => _server?.Dispose();

    private Task OnConnectedAsync(ClientConnectedEventArgs args)
    {
        if (args.SessionItems[SessionKeys.Serial] is SerialNumber serial)
        {
            connected.Connected(serial.Value, time.GetUtcNow());
            presence.Connected(serial.Value);
            Log.DeviceConnected(logger, serial.Value, args.RemoteEndPoint?.ToString() ?? "?", args.ProtocolVersion.ToString());
        }

        return Task.CompletedTask;
    }

    private Task OnDisconnectedAsync(ClientDisconnectedEventArgs args)
    {
        // A takeover is the same device connecting again: its new connection is already (or about to be) connected.
        if (args.DisconnectType == MqttClientDisconnectType.Takeover)
        {
            Log.DeviceDisconnected(logger, args.ClientId, args.DisconnectType.ToString());
            return Task.CompletedTask;
        }

        connected.Disconnected(args.ClientId);
        if (args.SessionItems[SessionKeys.Serial] is SerialNumber serial)
        {
            presence.Disconnected(serial.Value, clean: args.DisconnectType == MqttClientDisconnectType.Clean);
        }

        Log.DeviceDisconnected(logger, args.ClientId, args.DisconnectType.ToString());
        return Task.CompletedTask;
    }
}
