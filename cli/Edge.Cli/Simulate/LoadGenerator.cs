using MQTTnet;

namespace Edge.Cli.Simulate;

/// <summary>
/// Simulated devices publishing telemetry the way real ones do: one MQTT connection per device, QoS 1, one
/// reading in flight per device (so per-device order holds), and at-least-once delivery: a reading whose
/// publish fails is re-sent, same bytes, after a reconnect with backoff, until the broker acknowledges or
/// refuses it. Used by <c>edgectl simulate</c>, the agent's tests and the benchmarks. A generator runs once.
/// </summary>
internal sealed class LoadGenerator
{
    static readonly TimeSpan FirstReconnectBackoff = TimeSpan.FromMilliseconds(100);

    readonly LoadGeneratorOptions _options;
    readonly TimeProvider _time;
    readonly MqttClientFactory _factory = new();
    readonly LatencyHistogram _latency = new();
    readonly Dictionary<MqttClientPublishReasonCode, long> _refusedByReason = [];
    readonly Dictionary<MqttClientConnectResultCode, int> _connectionsRefusedByReason = [];
    readonly Lock _countsLock = new();
    long _acknowledged;
    long _refused;
    long _quotaBackoffs;
    long _unacknowledged;
    long _reconnects;
    long _errors;
    long _connectedDevices;
    long _startTimestamp;
    int _started;
    volatile string? _lastError;

    public LoadGenerator(LoadGeneratorOptions options, TimeProvider? timeProvider = null)
    {
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Counters so far; safe to read while <see cref="RunAsync"/> runs.</summary>
    public LoadProgress Progress => new(
        Interlocked.Read(ref _acknowledged),
        Interlocked.Read(ref _refused),
        Interlocked.Read(ref _reconnects),
        Interlocked.Read(ref _errors),
        Volatile.Read(ref _started) == 0 ? TimeSpan.Zero : _time.GetElapsedTime(Interlocked.Read(ref _startTimestamp)),
        _lastError);

    /// <summary>
    /// Runs every device until its count is sent, the duration is over, or <paramref name="cancellationToken"/>
    /// fires; then disconnects them. Cancellation ends the run early and still returns what was done.
    /// </summary>
    public async Task<LoadGeneratorResult> RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A LoadGenerator runs once; create a new one for another run.");
        }

        Interlocked.Exchange(ref _startTimestamp, _time.GetTimestamp());
        // "Abort" is the caller's cancellation, or giving up on a broker no device could reach.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var giveUp = _options.GiveUpIfNoConnectionAfter is { } patience ? new CancellationTokenSource(patience, _time) : new CancellationTokenSource();
        using var giveUpCheck = giveUp.Token.Register(() =>
        {
            if (Interlocked.Read(ref _connectedDevices) == 0)
            {
                abort.Cancel();
            }
        });

        // "Stop sending" covers the end of the duration as well; in-flight publishes only heed the abort,
        // so a reading already sent when the duration ends still gets its answer counted.
        using var durationOver = _options.Duration is { } duration ? new CancellationTokenSource(duration, _time) : new CancellationTokenSource();
        using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(abort.Token, durationOver.Token);

        var sessions = _options.Devices.Select((device, index) => new DeviceSession(device, index, _options, _factory)).ToArray();
        try
        {
            await Task.WhenAll(sessions.Select(session => RunDeviceAsync(session, stopSending.Token, abort.Token)));
            return BuildResult(sessions, cancellationToken.IsCancellationRequested);
        }
        finally
        {
            foreach (var session in sessions)
            {
                session.Dispose();
            }
        }
    }

    async Task RunDeviceAsync(DeviceSession session, CancellationToken stopSending, CancellationToken cancellationToken)
    {
        // Leave the caller's thread at once: setting up hundreds of devices must not run one after another.
        await Task.Yield();
        PeriodicTimer? pacer = null;
        try
        {
            // Connect first, as a device does when it boots: then "no device could connect" is about the
            // broker, never about a slow pace that has not tried yet.
            if (!await ConnectWithRetryAsync(session, stopSending, cancellationToken))
            {
                return;
            }

            if (_options.RatePerDevice > 0)
            {
                var period = TimeSpan.FromSeconds(1 / _options.RatePerDevice);
                // Start each device at a random point of its period so a fleet does not publish in lockstep.
                await Task.Delay(period * Random.Shared.NextDouble(), _time, stopSending);
                pacer = new PeriodicTimer(period, _time);
            }

            for (long sent = 0; _options.ReadingsPerDevice is not { } count || sent < count; sent++)
            {
                // A tick missed while waiting for a slow PUBACK is not made up later: a device does not burst.
                if (sent > 0 && pacer is not null)
                {
                    await pacer.WaitForNextTickAsync(stopSending);
                }

                stopSending.ThrowIfCancellationRequested();
                session.StartNextReading(_time.GetUtcNow());
                if (!await DeliverAsync(session, stopSending, cancellationToken))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stopSending.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            // The duration is over or the run was aborted: a reading still being retried is left unacknowledged.
            // (Both tokens are checked: an abort can reach this continuation before the linked token hears of it.)
        }
        finally
        {
            pacer?.Dispose();
            if (session.HasPendingReading)
            {
                Interlocked.Increment(ref _unacknowledged);
            }

            await session.CloseAsync();
        }
    }

    /// <summary>Sends the session's reading until it is acknowledged or refused; false when the device must stop.</summary>
    async Task<bool> DeliverAsync(DeviceSession session, CancellationToken stopSending, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            if (failures > 0)
            {
                await Task.Delay(ReconnectBackoff(failures), _time, stopSending);
            }

            if (!session.Client.IsConnected)
            {
                var connected = await ConnectAsync(session, cancellationToken);
                if (connected is null)
                {
                    return false;
                }

                if (connected == false)
                {
                    failures++;
                    continue;
                }
            }

            var started = _time.GetTimestamp();
            MqttClientPublishResult result;
            try
            {
                result = await session.PublishAsync(_options.PublishTimeout, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                var what = ex is OperationCanceledException
                    ? $"no PUBACK within {_options.PublishTimeout.TotalSeconds:0.#} s"
                    : $"publish failed ({ex.GetBaseException().Message})";
                RecordError(session, what);
                await session.ResetConnectionAsync();
                failures++;
                continue;
            }

            _latency.Record(started, _time.GetTimestamp(), _time.TimestampFrequency);
            switch (result.ReasonCode)
            {
                // MQTT 5 lets a broker say "accepted, nobody subscribed": still an acknowledgement.
                case MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers:
                    session.Acknowledge();
                    Interlocked.Increment(ref _acknowledged);
                    return true;
                case MqttClientPublishReasonCode.QuotaExceeded:
                    // The agent's journal is full: it asks devices to back off, and the reading must not be lost.
                    Interlocked.Increment(ref _quotaBackoffs);
                    await Task.Delay(_options.QuotaBackoff, _time, stopSending);
                    continue;
                default:
                    session.Refuse();
                    CountRefusal(result.ReasonCode);
                    return true;
            }
        }
    }

    /// <summary>Connects with backoff until it works; false when the broker refused the device for good.</summary>
    async Task<bool> ConnectWithRetryAsync(DeviceSession session, CancellationToken stopSending, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            switch (await ConnectAsync(session, cancellationToken))
            {
                case true:
                    return true;
                case null:
                    return false;
                default:
                    await Task.Delay(ReconnectBackoff(failures), _time, stopSending);
                    break;
            }
        }
    }

    /// <summary>True when connected, false when the attempt failed and may be retried, null when the broker refused the device for good.</summary>
    async Task<bool?> ConnectAsync(DeviceSession session, CancellationToken cancellationToken)
    {
        // MQTTnet 5 ignores its own Timeout option when given a cancellable token, so bound the attempt here.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttClientConnectResult result;
        try
        {
            result = await session.Client.ConnectAsync(session.ClientOptions, timeout.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var what = ex is OperationCanceledException
                ? $"no CONNACK from {_options.Host}:{_options.Port} within {_options.ConnectTimeout.TotalSeconds:0.#} s"
                : $"cannot connect to {_options.Host}:{_options.Port} ({ex.GetBaseException().Message})";
            RecordError(session, what);
            await session.ResetConnectionAsync();
            return false;
        }

        if (result.ResultCode == MqttClientConnectResultCode.Success)
        {
            if (session.EverConnected)
            {
                Interlocked.Increment(ref _reconnects);
            }

            else
            {
                session.EverConnected = true;
                Interlocked.Increment(ref _connectedDevices);
            }

            try
            {
                await session.AnswerConfigsAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Telemetry is what the simulator measures; a failed config subscription is reported, not fatal.
                RecordError(session, $"cannot subscribe to its config ({ex.GetBaseException().Message})");
            }

            return true;
        }

        var reason = string.IsNullOrEmpty(result.ReasonString) ? "" : $": {result.ReasonString}";
        RecordError(session, $"the broker refused the connection ({result.ResultCode}{reason})");
        await session.ResetConnectionAsync();
        if (IsRefusedForGood(result.ResultCode))
        {
            lock (_countsLock)
            {
                _connectionsRefusedByReason[result.ResultCode] = _connectionsRefusedByReason.GetValueOrDefault(result.ResultCode) + 1;
            }

            return null;
        }

        return false;
    }

    /// <summary>Refusals that retrying cannot fix: the device's identity or the protocol is wrong, not the moment.</summary>
    static bool IsRefusedForGood(MqttClientConnectResultCode code) => code is
        MqttClientConnectResultCode.BadUserNameOrPassword or
        MqttClientConnectResultCode.NotAuthorized or
        MqttClientConnectResultCode.ClientIdentifierNotValid or
        MqttClientConnectResultCode.Banned or
        MqttClientConnectResultCode.BadAuthenticationMethod or
        MqttClientConnectResultCode.UnsupportedProtocolVersion;

    /// <summary>Exponential from 100 ms up to the configured cap, with jitter so a fleet does not reconnect in waves.</summary>
    TimeSpan ReconnectBackoff(int failures)
    {
        var exponential = FirstReconnectBackoff * Math.Pow(2, Math.Min(failures - 1, 16));
        var capped = exponential < _options.MaxReconnectBackoff ? exponential : _options.MaxReconnectBackoff;
        return capped * (0.5 + (Random.Shared.NextDouble() / 2));
    }

    void CountRefusal(MqttClientPublishReasonCode code)
    {
        lock (_countsLock)
        {
            _refusedByReason[code] = _refusedByReason.GetValueOrDefault(code) + 1;
        }

        Interlocked.Increment(ref _refused);
    }

    void RecordError(DeviceSession session, string what)
    {
        Interlocked.Increment(ref _errors);
        _lastError = $"{session.Device.Serial}: {what}";
    }

    LoadGeneratorResult BuildResult(DeviceSession[] sessions, bool cancelled)
    {
        lock (_countsLock)
        {
            return new LoadGeneratorResult
            {
                Devices = sessions.Length,
                Acknowledged = Interlocked.Read(ref _acknowledged),
                RefusedByReason = new Dictionary<MqttClientPublishReasonCode, long>(_refusedByReason),
                QuotaBackoffs = Interlocked.Read(ref _quotaBackoffs),
                Unacknowledged = Interlocked.Read(ref _unacknowledged),
                Reconnects = Interlocked.Read(ref _reconnects),
                Errors = Interlocked.Read(ref _errors),
                ConnectionsRefusedByReason = new Dictionary<MqttClientConnectResultCode, int>(_connectionsRefusedByReason),
                DevicesNeverConnected = sessions.Count(s => !s.EverConnected),
                Elapsed = _time.GetElapsedTime(_startTimestamp),
                LatencyP50Milliseconds = _latency.PercentileMilliseconds(50),
                LatencyP99Milliseconds = _latency.PercentileMilliseconds(99),
                LatencyMaxMilliseconds = _latency.MaxMilliseconds,
                Cancelled = cancelled,
                LastError = _lastError,
                AcknowledgedTimestamps = _options.RecordAcknowledged
                    ? sessions.ToDictionary(s => s.Device.Serial, s => s.AcknowledgedTimestamps!, StringComparer.Ordinal)
                    : null,
            };
        }
    }
}
