using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.Hosting.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;

namespace Edge.Agent.Uplink;

/// <summary>
/// The gateway's MQTT 5 connection to the cloud broker: TLS with the gateway's client certificate, a persistent
/// session (clean start off, session expiry) so commit acks wait for us while we are offline, and a supervising
/// loop that reconnects with decorrelated-jitter backoff. The Disconnected event only wakes the loop: MQTTnet's
/// authors warn that reconnecting inside it can deadlock.
/// </summary>
internal sealed class UplinkConnection : IUplinkChannel, IAsyncDisposable
{
    /// <summary>A gateway waits at most a minute between attempts to reach the cloud broker.</summary>
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(60);

    private readonly UplinkOptions _options;
    private readonly string _gatewayId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly ResiliencePipeline _connectPipeline;
    private readonly UplinkPacer _pacer;
    private readonly ConcurrentQueue<CommitAck> _acks = new();
    private readonly Dictionary<UplinkTopicKind, IDownlinkHandler> _downlinks;
    private readonly SemaphoreSlim _activity = new(0);
    private volatile TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _connections;
    private volatile TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Renewal.UplinkIdentity _identity;

    public UplinkConnection(
        IOptions<UplinkOptions> options,
        Renewal.UplinkIdentity identity,
        string gatewayId,
        IEnumerable<IDownlinkHandler> downlinks,
        TimeProvider time,
        ILogger<UplinkConnection> logger)
    {
        _options = options.Value;
        _identity = identity;
        _gatewayId = gatewayId;
        _downlinks = downlinks.ToDictionary(h => h.Kind);
        _time = time;
        _logger = logger;
        _pacer = new UplinkPacer(_options.PublishesPerSecond, _options.BytesPerSecond, time);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += _ =>
        {
            // State only (no reconnecting here): the sender must wait again, and the supervisor must wake.
            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _disconnected.TrySetResult();
            Signal();
            return Task.CompletedTask;
        };
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _connectPipeline = ReconnectPipeline.Create(time, MaxReconnectDelay, (delay, error) =>
            Log.UplinkConnectFailed(_logger, Endpoint, delay.TotalSeconds, error?.Message ?? ""));
    }

    public string Endpoint => $"mqtts://{_options.Host}:{_options.Port}";

    public string GatewayId => _gatewayId;

    public bool IsConnected => _client.IsConnected;

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Completes when connected; the sender waits on it while the link is down.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken) => _connected.Task.WaitAsync(cancellationToken);

    /// <summary>Commit acks received from workers, in arrival order.</summary>
    public bool TryTakeAck(out CommitAck ack) => _acks.TryDequeue(out ack!);

    /// <summary>Waits until an ack arrives, the connection changes, or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForActivityAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // SemaphoreSlim's own timeout withdraws the wait; a Task.Delay race would leave it to swallow a later signal.
        _ = await _activity.WaitAsync(timeout, cancellationToken);
    }

    /// <summary>
    /// Paces, publishes QoS 1 and returns once the broker has acknowledged it (not yet stored: that is the commit ack).
    /// Every message the agent sends goes through here, so the pacing budget and the size limit hold for all of them.
    /// </summary>
    public async Task PublishAsync(string topic, byte[] payload, UplinkPriority priority, CancellationToken cancellationToken)
    {
        if (payload.Length > _options.MaxBatchBytes)
        {
            throw new UplinkMessageTooLargeException(topic, payload.Length, _options.MaxBatchBytes);
        }

        await _pacer.TakeAsync(payload.Length, priority, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30)); // MQTTnet has no publish timeout of its own
        var result = await _client.PublishAsync(
            new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build(),
            timeout.Token);
        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"the broker refused the batch: {result.ReasonCode} {result.ReasonString}");
        }
    }

    public async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            // A normal disconnect keeps the session (clean start is off), so queued commit acks wait for the new link.
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken)
                ;
        }
    }

    /// <summary>The supervising loop: connect (with backoff), wait for a disconnect, repeat until stopped.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            _disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _connectPipeline.ExecuteAsync(ConnectOnceAsync, stoppingToken);
            Log.UplinkConnected(_logger, Endpoint);
            Interlocked.Increment(ref _connections);
            _connected.TrySetResult();
            Signal();

            await _disconnected.Task.WaitAsync(stoppingToken);
            Log.UplinkDisconnected(_logger, Endpoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build());
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
                // Already gone.
            }
        }

        _client.Dispose();
        _activity.Dispose();
    }

    private async ValueTask ConnectOnceAsync(CancellationToken cancellationToken)
    {
        // A fresh client state per attempt; MQTTnet refuses to connect while a previous attempt is tearing down.
        if (_client.IsConnected)
        {
            return;
        }

        var result = await _client.ConnectAsync(BuildOptions(), cancellationToken);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
        }

        // With a resumed session the subscriptions are still there; subscribing again is harmless and covers a new one.
        var subscribe = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(UplinkTopics.Ack(_gatewayId), MqttQualityOfServiceLevel.AtLeastOnce);
        foreach (var kind in _downlinks.Keys)
        {
            subscribe.WithTopicFilter(UplinkTopics.For(_gatewayId, kind), MqttQualityOfServiceLevel.AtLeastOnce);
        }

        await _client.SubscribeAsync(subscribe.Build(), cancellationToken);
    }

    private MqttClientOptions BuildOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithClientId(_options.ClientId ?? _gatewayId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.SessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(15));
        var trusted = _options.CaPath is null ? null : PemTls.LoadBundle(_options.CaPath);
        builder.WithTlsOptions(tls =>
        {
            tls.UseTls().WithTargetHost(_options.Host);
            // Read on every connect: after a renewal the next connection presents the new certificate.
            if (_identity.Load() is { } certificate)
            {
                tls.WithClientCertificates(new X509Certificate2Collection(certificate));
            }

            if (trusted is not null)
            {
                tls.WithCertificateValidationHandler(args => PemTls.IsTrustedServer(args.Certificate, args.SslPolicyErrors, trusted));
            }
        });
        return builder.Build();
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        if (!UplinkTopics.TryParse(topic, out var gatewayId, out var kind) || !string.Equals(gatewayId, _gatewayId, StringComparison.Ordinal))
        {
            Log.UplinkAckIgnored(_logger, topic, "it is not one of this gateway's cloud-to-gateway topics");
            return;
        }

        if (kind == UplinkTopicKind.Ack)
        {
            TakeCommitAck(args);
            return;
        }

        if (!_downlinks.TryGetValue(kind, out var handler))
        {
            Log.UplinkAckIgnored(_logger, topic, "nothing on this gateway handles that topic");
            return;
        }

        var sequence = args.ApplicationMessage.Payload;
        ReadOnlyMemory<byte> payload = sequence.IsSingleSegment ? sequence.First : System.Buffers.BuffersExtensions.ToArray(sequence);
        try
        {
            await handler.HandleAsync(payload, CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.DownlinkFailed(_logger, topic, ex);
        }
    }

    private void TakeCommitAck(MqttApplicationMessageReceivedEventArgs args)
    {
        try
        {
            var payload = args.ApplicationMessage.Payload;
            var ack = JsonSerializer.Deserialize(payload.IsSingleSegment ? payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(payload), UplinkJsonContext.Default.CommitAck);
            if (ack is not null && string.Equals(ack.GatewayId, _gatewayId, StringComparison.Ordinal))
            {
                _acks.Enqueue(ack);
                Signal();
            }
            else
            {
                Log.UplinkAckIgnored(_logger, args.ApplicationMessage.Topic, "it names another gateway");
            }
        }
        catch (JsonException ex)
        {
            Log.UplinkAckIgnored(_logger, args.ApplicationMessage.Topic, ex.Message);
        }
    }

    private void Signal()
    {
        if (_activity.CurrentCount == 0)
        {
            _activity.Release();
        }
    }
}
