using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Cli.Simulate;

/// <summary>
/// One simulated device's connection and its current reading. The reading's bytes stay untouched until it is
/// acknowledged or refused, so every re-send after a reconnect carries exactly the same payload.
/// </summary>
internal sealed class DeviceSession : IDisposable
{
    /// <summary>Bounds the polite DISCONNECT at the end of a run or before a reconnect; a dead broker must not hold us up.</summary>
    static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(2);

    readonly MqttClientFactory _factory;
    readonly MqttApplicationMessage _message;
    readonly List<DateTimeOffset>? _acknowledged;
    CancellationTokenSource? _publishTimeout;
    IMqttClient? _answering;

    public DeviceSession(SimulatedDevice device, int index, LoadGeneratorOptions options, MqttClientFactory factory)
    {
        Device = device;
        _factory = factory;
        Client = factory.CreateMqttClient();

        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId(device.Serial)
            .WithProtocolVersion(options.ProtocolVersion)
            // The simulator re-sends unacknowledged readings itself, as the devices do, so no broker session is needed.
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(options.ConnectTimeout);
        if (device.Secret is not null)
        {
            builder.WithCredentials(device.Serial, device.Secret);
        }

        if (options.DeviceCa is { } deviceCa)
        {
            // The broker's certificate must chain to the device CA and name the host dialled, as a real device checks.
            builder.WithTlsOptions(tls => tls.UseTls().WithTargetHost(options.Host)
                .WithCertificateValidationHandler(args => Contracts.Tls.PemTls.IsTrustedServer(args.Certificate, args.SslPolicyErrors, deviceCa)));
        }

        ClientOptions = builder.Build();
        _message = new MqttApplicationMessage
        {
            Topic = options.PublishToStatusTopic ? Contracts.Topics.DeviceTopics.Status(device.Serial) : device.TelemetryTopic,
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        };
        // Devices are seeded apart (a prime stride) so that two devices never walk in step.
        Readings = new ReadingGenerator(device.ParsedSerial, unchecked(options.Seed + (index * 7919)), options.AlarmRatio);
        _acknowledged = options.RecordAcknowledged ? [] : null;
    }

    public SimulatedDevice Device { get; }

    public IMqttClient Client { get; private set; }

    public MqttClientOptions ClientOptions { get; }

    public ReadingGenerator Readings { get; }

    public bool EverConnected { get; set; }

    /// <summary>A reading has been written and is neither acknowledged nor refused yet.</summary>
    public bool HasPendingReading { get; private set; }

    public IReadOnlyList<DateTimeOffset>? AcknowledgedTimestamps => _acknowledged;

    public void StartNextReading(DateTimeOffset now)
    {
        _message.Payload = new ReadOnlySequence<byte>(Readings.Next(now));
        HasPendingReading = true;
    }

    public void Acknowledge()
    {
        _acknowledged?.Add(Readings.Timestamp);
        HasPendingReading = false;
    }

    public void Refuse() => HasPendingReading = false;

    /// <summary>Publishes the current reading and waits for its PUBACK, at most <paramref name="timeout"/>.</summary>
    /// <remarks>MQTTnet 5 applies no timeout of its own to a publish given a cancellable token, hence this one.</remarks>
    public async Task<MqttClientPublishResult> PublishAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // One linked source per device, re-armed for each publish, instead of a new one per reading.
        _publishTimeout ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _publishTimeout.CancelAfter(timeout);
        try
        {
            return await Client.PublishAsync(_message, _publishTimeout.Token);
        }
        finally
        {
            if (!_publishTimeout.TryReset())
            {
                _publishTimeout.Dispose();
                _publishTimeout = null;
            }
        }
    }

    /// <summary>
    /// Behaves like a well-kept device towards its desired config: subscribes to <c>devices/{serial}/config</c> and
    /// answers every version it receives with "applied" on <c>…/config/ack</c>, so a config push can be followed to the
    /// end in a local run. Called after every successful connect (the session is clean).
    /// </summary>
    public async Task AnswerConfigsAsync(CancellationToken cancellationToken)
    {
        var client = Client;
        if (!ReferenceEquals(_answering, client))
        {
            _answering = client;
            client.ApplicationMessageReceivedAsync += args => AckConfigAsync(client, args);
        }

        await client.SubscribeAsync(
            new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Contracts.Topics.DeviceTopics.Config(Device.Serial), MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            cancellationToken);
    }

    async Task AckConfigAsync(IMqttClient client, MqttApplicationMessageReceivedEventArgs args)
    {
        int version;
        try
        {
            using var config = System.Text.Json.JsonDocument.Parse(args.ApplicationMessage.Payload);
            version = config.RootElement.GetProperty("version").GetInt32();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return; // not a versioned config: nothing to acknowledge
        }

        // Answered in the background: awaiting a publish inside MQTTnet's receive handler would stall the client.
        _ = client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(Contracts.Topics.DeviceTopics.ConfigAck(Device.Serial))
            .WithPayload($$"""{"version":{{version}},"status":"applied"}""")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        await Task.CompletedTask;
    }

    /// <summary>Ends the current connection, whatever state it is in, with a fresh client for the next attempt.</summary>
    /// <remarks>
    /// After a failed publish the old client may still be tearing its connection down in the background, and
    /// connecting it again then throws; a new client starts from a known state.
    /// </remarks>
    public async Task ResetConnectionAsync()
    {
        await DisconnectQuietlyAsync();
        Client.Dispose();
        Client = _factory.CreateMqttClient();
    }

    public Task CloseAsync() => DisconnectQuietlyAsync();

    public void Dispose()
    {
        Client.Dispose();
        Readings.Dispose();
        _publishTimeout?.Dispose();
    }

    async Task DisconnectQuietlyAsync()
    {
        if (!Client.IsConnected)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(DisconnectTimeout);
        try
        {
            await Client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token);
        }
        catch (Exception)
        {
            // The connection is going away either way; a failed DISCONNECT only means it went first.
        }
    }
}
