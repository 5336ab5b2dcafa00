using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Cli.Simulate;
using Edge.Contracts.Tls;
using Edge.Contracts.Topics;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// One simulated device over the agent's TLS listener: a reading per period at QoS 1, re-sent (same bytes) until the
/// agent acknowledges or refuses it, and the device time of every acknowledged reading kept in sending order. It
/// answers every config it receives with "applied" and every firmware offer with downloading, installing, done.
/// </summary>
internal sealed class SoakDevice : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan QuotaBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxReconnectBackoff = TimeSpan.FromSeconds(5);

    private readonly MqttClientFactory _factory = new();
    private readonly MqttClientOptions _options;
    private readonly ReadingGenerator _readings;
    private readonly MqttApplicationMessage _message;
    // One user of the connection at a time: the sending loop, or a reconnect storm dropping it.
    private readonly SemaphoreSlim _connection = new(1, 1);
    private readonly List<DateTimeOffset> _acknowledged = [];
    // Firmware jobs being answered or answered; a job whose answer failed is removed, so the retained offer retries it.
    private readonly ConcurrentDictionary<string, bool> _firmwareJobs = new(StringComparer.Ordinal);
    private IMqttClient _client;
    private bool _everConnected;
    private long _reconnects;
    private long _failures;
    private long _refused;

    public SoakDevice(SimulatedDevice device, int index, int port, X509Certificate2Collection deviceCa)
    {
        Device = device;
        _options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(device.Serial)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(ConnectTimeout)
            .WithCredentials(device.Serial, device.Secret)
            // The agent's certificate must chain to its device CA and name 127.0.0.1, as a real device checks.
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("127.0.0.1")
                .WithCertificateValidationHandler(args => PemTls.IsTrustedServer(args.Certificate, args.SslPolicyErrors, deviceCa)))
            .Build();
        _message = new MqttApplicationMessage { Topic = device.TelemetryTopic, QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce };
        _readings = new ReadingGenerator(device.ParsedSerial, seed: 9700 + (index * 7919), alarmRatio: 0.03);
        _client = NewClient();
    }

    public SimulatedDevice Device { get; }

    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Failed connects and publishes (each followed by a retry of the same reading).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Device times of the acknowledged readings, in the order the device sent them.</summary>
    public IReadOnlyList<DateTimeOffset> Acknowledged
    {
        get
        {
            lock (_acknowledged)
            {
                return [.. _acknowledged];
            }
        }
    }

    public int AcknowledgedCount
    {
        get
        {
            lock (_acknowledged)
            {
                return _acknowledged.Count;
            }
        }
    }

    /// <summary>Sends a reading every period until <paramref name="stop"/>; a reading still unacknowledged then is abandoned.</summary>
    public async Task RunAsync(TimeSpan period, CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            // A random phase, so two hundred devices do not publish in lockstep.
            await Task.Delay(period * Random.Shared.NextDouble(), stop);
            using var pacer = new PeriodicTimer(period);
            do
            {
                _message.Payload = new ReadOnlySequence<byte>(_readings.Next(DateTimeOffset.UtcNow).ToArray());
                await DeliverAsync(_readings.Timestamp, stop);
            }
            while (await pacer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The reconnect storm: drops the connection without a DISCONNECT and connects again at once.</summary>
    public async Task DropAndReconnectAsync(CancellationToken stop)
    {
        await _connection.WaitAsync(stop);
        try
        {
            Reset();
            await ConnectAsync(stop);
        }
        finally
        {
            _connection.Release();
        }
    }

    public async Task CloseAsync()
    {
        await _connection.WaitAsync();
        try
        {
            if (_client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token);
                }
                catch (Exception)
                {
                    // Going away either way.
                }
            }
        }
        finally
        {
            _connection.Release();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _readings.Dispose();
        _connection.Dispose();
    }

    private async Task DeliverAsync(DateTimeOffset deviceTime, CancellationToken stop)
    {
        var failures = 0;
        var quota = false;
        while (true)
        {
            if (quota)
            {
                await Task.Delay(QuotaBackoff, stop);
                quota = false;
            }
            else if (failures > 0)
            {
                var backoff = TimeSpan.FromMilliseconds(100 * Math.Pow(2, Math.Min(failures - 1, 6)));
                await Task.Delay((backoff < MaxReconnectBackoff ? backoff : MaxReconnectBackoff) * (0.5 + (Random.Shared.NextDouble() / 2)), stop);
            }

            await _connection.WaitAsync(stop);
            try
            {
                if (!_client.IsConnected && !await ConnectAsync(stop))
                {
                    failures++;
                    continue;
                }

                MqttClientPublishResult result;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    timeout.CancelAfter(PublishTimeout);
                    try
                    {
                        result = await _client.PublishAsync(_message, timeout.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception)
                    {
                        // No PUBACK (timeout or a dropped connection): reconnect and send the same bytes again.
                        Interlocked.Increment(ref _failures);
                        Reset();
                        failures++;
                        continue;
                    }
                }

                switch (result.ReasonCode)
                {
                    case MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers:
                        lock (_acknowledged)
                        {
                            _acknowledged.Add(deviceTime);
                        }

                        return;
                    case MqttClientPublishReasonCode.QuotaExceeded:
                        quota = true;
                        continue;
                    default:
                        Interlocked.Increment(ref _refused);
                        return;
                }
            }
            finally
            {
                _connection.Release();
            }
        }
    }

    /// <summary>Connects and subscribes to its config and firmware topics; false when the attempt failed.</summary>
    private async Task<bool> ConnectAsync(CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            var result = await _client.ConnectAsync(_options, timeout.Token);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                Interlocked.Increment(ref _failures);
                Reset();
                return false;
            }

            if (_everConnected)
            {
                Interlocked.Increment(ref _reconnects);
            }

            _everConnected = true;
            await _client.SubscribeAsync(
                new MqttClientSubscribeOptionsBuilder()
                    .WithTopicFilter(DeviceTopics.Config(Device.Serial), MqttQualityOfServiceLevel.AtLeastOnce)
                    .WithTopicFilter(DeviceTopics.Firmware(Device.Serial), MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build(),
                timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
            Reset();
            return false;
        }
    }

    /// <summary>A fresh client for the next attempt; disposing the old one closes its socket without a DISCONNECT.</summary>
    private void Reset()
    {
        _client.Dispose();
        _client = NewClient();
    }

    private IMqttClient NewClient()
    {
        var client = _factory.CreateMqttClient();
        client.ApplicationMessageReceivedAsync += args =>
        {
            // Answered in the background: publishing inside MQTTnet's receive handler would stall the client.
            var topic = args.ApplicationMessage.Topic;
            var payload = args.ApplicationMessage.Payload.ToArray();
            if (topic == DeviceTopics.Config(Device.Serial))
            {
                _ = AnswerConfigAsync(client, payload);
            }
            else if (topic == DeviceTopics.Firmware(Device.Serial))
            {
                _ = AnswerFirmwareAsync(client, payload);
            }

            return Task.CompletedTask;
        };
        return client;
    }

    private async Task AnswerConfigAsync(IMqttClient client, byte[] payload)
    {
        if (ReadProperty(payload, "version") is not { ValueKind: JsonValueKind.Number } version)
        {
            return;
        }

        await TryPublishAsync(client, DeviceTopics.ConfigAck(Device.Serial), $$"""{"version":{{version.GetInt32()}},"status":"applied"}""");
    }

    private async Task AnswerFirmwareAsync(IMqttClient client, byte[] payload)
    {
        if (ReadProperty(payload, "job_id") is not { ValueKind: JsonValueKind.String } job || !_firmwareJobs.TryAdd(job.GetString()!, true))
        {
            return;
        }

        var id = job.GetString()!;
        foreach (var status in new[] { $$"""{"job_id":"{{id}}","status":"downloading","percent":50}""", $$"""{"job_id":"{{id}}","status":"installing"}""", $$"""{"job_id":"{{id}}","status":"done"}""" })
        {
            if (!await TryPublishAsync(client, DeviceTopics.FirmwareProgress(Device.Serial), status))
            {
                // The next delivery of the retained offer (after a reconnect) starts the answer again.
                _firmwareJobs.TryRemove(id, out _);
                return;
            }
        }
    }

    private static async Task<bool> TryPublishAsync(IMqttClient client, string topic, string json)
    {
        try
        {
            using var timeout = new CancellationTokenSource(PublishTimeout);
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(json)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), timeout.Token);
            return result.IsSuccess;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static JsonElement? ReadProperty(byte[] payload, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.TryGetProperty(name, out var value) ? value.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
