using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Edge.Cli.Simulate;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Edge.Cli.Tests.Simulate;

public sealed class LoadGeneratorTests
{
    /// <summary>A deadline for runs that must end by themselves; a hang fails the test instead of the CI job.</summary>
    static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_reading_is_acknowledged_and_each_device_keeps_its_order()
    {
        await using var broker = await InProcessBroker.StartAsync();
        var devices = Devices(5, secret: null);

        var result = await RunAsync(Options(broker, devices) with { ReadingsPerDevice = 50 });

        Assert.Equal(250, result.Acknowledged);
        Assert.Equal(0, result.Refused);
        Assert.Equal(0, result.Unacknowledged);
        Assert.Equal(0, result.DevicesNeverConnected);
        Assert.False(result.Cancelled);
        Assert.NotNull(result.AcknowledgedTimestamps);
        foreach (var device in devices)
        {
            var acknowledged = result.AcknowledgedTimestamps[device.Serial];
            Assert.Equal(50, acknowledged.Count);
            AssertStrictlyIncreasing(acknowledged);

            // The broker saw the same readings, in the same order, on the device's own topic.
            var received = broker.Received.Where(p => p.ClientId == device.Serial).ToList();
            Assert.All(received, p => Assert.Equal(DeviceTopics.Telemetry(device.Serial), p.Topic));
            Assert.Equal(acknowledged, received.Select(p => TimestampOf(p.Payload)));
        }

        Assert.True(result.LatencyMaxMilliseconds >= result.LatencyP99Milliseconds);
        Assert.True(result.LatencyP99Milliseconds >= result.LatencyP50Milliseconds);
    }

    [Fact]
    public async Task With_the_status_topic_option_every_reading_goes_to_the_devices_status_topic()
    {
        // The ingest benchmark's broker-path run: the agent acknowledges status messages without journaling them.
        await using var broker = await InProcessBroker.StartAsync();
        var devices = Devices(3, secret: null);

        var result = await RunAsync(Options(broker, devices) with { ReadingsPerDevice = 10, PublishToStatusTopic = true });

        Assert.Equal(30, result.Acknowledged);
        Assert.Equal(30, broker.Received.Count);
        foreach (var device in devices)
        {
            Assert.Equal(10, broker.Received.Count(p => p.ClientId == device.Serial && p.Topic == DeviceTopics.Status(device.Serial)));
        }
    }

    [Fact]
    public async Task Refused_readings_are_counted_by_reason_and_the_device_moves_on()
    {
        var publishes = 0;
        await using var broker = await InProcessBroker.StartAsync(onPublish: args =>
        {
            if (Interlocked.Increment(ref publishes) % 10 == 0)
            {
                args.ProcessPublish = false;
                args.Response.ReasonCode = MqttPubAckReasonCode.PayloadFormatInvalid;
                args.Response.ReasonString = "metrics.pressure_cm_h2o out of range";
            }
        });

        var result = await RunAsync(Options(broker, Devices(4, secret: null)) with { ReadingsPerDevice = 25 });

        Assert.Equal(10, result.Refused);
        Assert.Equal(10, result.RefusedByReason[MqttClientPublishReasonCode.PayloadFormatInvalid]);
        Assert.Equal(90, result.Acknowledged);
        Assert.Equal(100, broker.Received.Count);
        Assert.Equal(0, result.Unacknowledged);
    }

    [Fact]
    public async Task A_dropped_connection_is_reconnected_and_the_same_reading_resent_until_acknowledged()
    {
        // Every device loses its connection on its 7th publish, once, before the PUBACK.
        var dropped = new ConcurrentDictionary<string, bool>();
        var seen = new ConcurrentDictionary<string, int>();
        await using var broker = await InProcessBroker.StartAsync(onPublish: args =>
        {
            if (seen.AddOrUpdate(args.ClientId, 1, (_, n) => n + 1) == 7 && dropped.TryAdd(args.ClientId, true))
            {
                args.ProcessPublish = false;
                args.CloseConnection = true;
            }
        });
        var devices = Devices(3, secret: null);

        var result = await RunAsync(Options(broker, devices) with { ReadingsPerDevice = 20 });

        Assert.Equal(60, result.Acknowledged);
        Assert.Equal(3, result.Reconnects);
        Assert.True(result.Errors >= 3);
        foreach (var device in devices)
        {
            var received = broker.Received.Where(p => p.ClientId == device.Serial).ToList();
            Assert.Equal(21, received.Count);
            // The 8th publish is the 7th reading again, byte for byte.
            Assert.Equal(received[6].Payload, received[7].Payload);
            AssertStrictlyIncreasing(result.AcknowledgedTimestamps![device.Serial]);
            Assert.Equal(20, result.AcknowledgedTimestamps[device.Serial].Count);
        }
    }

    [Fact]
    public async Task QuotaExceeded_is_retried_after_a_backoff_instead_of_dropping_the_reading()
    {
        var refusedOnce = 0;
        await using var broker = await InProcessBroker.StartAsync(onPublish: args =>
        {
            if (Interlocked.Exchange(ref refusedOnce, 1) == 0)
            {
                args.ProcessPublish = false;
                args.Response.ReasonCode = MqttPubAckReasonCode.QuotaExceeded;
            }
        });

        var result = await RunAsync(Options(broker, Devices(1, secret: null)) with
        {
            ReadingsPerDevice = 5,
            QuotaBackoff = TimeSpan.FromMilliseconds(50),
        });

        Assert.Equal(5, result.Acknowledged);
        Assert.Equal(1, result.QuotaBackoffs);
        Assert.Equal(0, result.Refused);
        var received = broker.Received.ToList();
        Assert.Equal(6, received.Count);
        Assert.Equal(received[0].Payload, received[1].Payload);
    }

    [Fact]
    public async Task Devices_connect_with_their_serial_and_secret_and_a_wrong_secret_stops_only_that_device()
    {
        var devices = new[] { new SimulatedDevice("CPAP-9000-0001", "right"), new SimulatedDevice("OXY-9000-0002", "wrong") };
        await using var broker = await InProcessBroker.StartAsync(onConnect: args =>
        {
            args.ReasonCode = args.UserName == args.ClientId && args.Password == "right"
                ? MqttConnectReasonCode.Success
                : MqttConnectReasonCode.BadUserNameOrPassword;
        });

        var result = await RunAsync(Options(broker, devices) with { ReadingsPerDevice = 10 });

        Assert.Equal(10, result.Acknowledged);
        Assert.Equal(1, result.DevicesNeverConnected);
        Assert.Equal(1, result.ConnectionsRefusedByReason[MqttClientConnectResultCode.BadUserNameOrPassword]);
        Assert.Contains("OXY-9000-0002", result.LastError, StringComparison.Ordinal);
        Assert.All(broker.Received, p => Assert.Equal("CPAP-9000-0001", p.ClientId));
    }

    [Fact]
    public async Task MQTT_3_1_1_devices_are_acknowledged_too()
    {
        await using var broker = await InProcessBroker.StartAsync();

        var result = await RunAsync(Options(broker, Devices(2, secret: null)) with
        {
            ReadingsPerDevice = 10,
            ProtocolVersion = MqttProtocolVersion.V311,
        });

        Assert.Equal(20, result.Acknowledged);
    }

    [Fact]
    public async Task A_duration_run_stops_by_itself_and_accounts_for_every_reading()
    {
        await using var broker = await InProcessBroker.StartAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var generator = new LoadGenerator(
            Options(broker, Devices(3, secret: null)) with { ReadingsPerDevice = null, Duration = TimeSpan.FromMinutes(1) },
            time);

        var run = generator.RunAsync();
        await WaitUntilAsync(() => generator.Progress.Acknowledged >= 30);
        time.Advance(TimeSpan.FromMinutes(1));
        var result = await run.WaitAsync(RunDeadline);

        Assert.True(result.Acknowledged >= 30);
        Assert.Equal(broker.Received.Count, result.Acknowledged + result.Refused);
        Assert.Equal(0, result.Unacknowledged);
        Assert.False(result.Cancelled);
    }

    [Fact]
    public async Task Cancellation_stops_the_run_and_still_returns_what_was_done()
    {
        await using var broker = await InProcessBroker.StartAsync();
        using var cancel = new CancellationTokenSource();
        var generator = new LoadGenerator(Options(broker, Devices(2, secret: null)) with { ReadingsPerDevice = null, RatePerDevice = 0 });

        var run = generator.RunAsync(cancel.Token);
        await WaitUntilAsync(() => generator.Progress.Acknowledged >= 20);
        await cancel.CancelAsync();
        var result = await run.WaitAsync(RunDeadline);

        Assert.True(result.Cancelled);
        Assert.True(result.Acknowledged >= 20);
        // A reading cut off by the cancellation may or may not have reached the broker; none is lost from the count.
        Assert.InRange(broker.Received.Count, result.Acknowledged, result.Acknowledged + result.Unacknowledged);
        Assert.InRange(result.Unacknowledged, 0, 2);
    }

    [Fact]
    public async Task A_broker_that_is_not_there_is_given_up_on()
    {
        await using var broker = await InProcessBroker.StartAsync();
        var port = broker.Port;
        await broker.DisposeAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var generator = new LoadGenerator(
            new LoadGeneratorOptions
            {
                Port = port,
                Devices = Devices(2, secret: null),
                ReadingsPerDevice = 5,
                GiveUpIfNoConnectionAfter = TimeSpan.FromSeconds(30),
            },
            time);

        var run = generator.RunAsync();
        await WaitUntilAsync(() => generator.Progress.Errors >= 2);
        time.Advance(TimeSpan.FromSeconds(30));
        var result = await run.WaitAsync(RunDeadline);

        Assert.Equal(0, result.Acknowledged);
        Assert.Equal(2, result.DevicesNeverConnected);
        Assert.Contains($"127.0.0.1:{port}", result.LastError, StringComparison.Ordinal);
        Assert.False(result.Cancelled);
    }

    static LoadGeneratorOptions Options(InProcessBroker broker, IReadOnlyList<SimulatedDevice> devices) => new()
    {
        Port = broker.Port,
        Devices = devices,
        RatePerDevice = 0,
        RecordAcknowledged = true,
        PublishTimeout = TimeSpan.FromSeconds(5),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(200),
    };

    static SimulatedDevice[] Devices(int count, string? secret) =>
        SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], count, 9000)
            .Select(serial => new SimulatedDevice(serial, secret))
            .ToArray();

    static async Task<LoadGeneratorResult> RunAsync(LoadGeneratorOptions options)
    {
        using var deadline = new CancellationTokenSource(RunDeadline);
        var result = await new LoadGenerator(options).RunAsync(deadline.Token);
        Assert.False(deadline.IsCancellationRequested, "the run did not finish by itself");
        return result;
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(RunDeadline);
        while (!condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    static DateTimeOffset TimestampOf(byte[] payload)
    {
        using var document = JsonDocument.Parse(payload);
        return DateTimeOffset.Parse(document.RootElement.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture);
    }

    static void AssertStrictlyIncreasing(IReadOnlyList<DateTimeOffset> timestamps)
    {
        for (var i = 1; i < timestamps.Count; i++)
        {
            Assert.True(timestamps[i] > timestamps[i - 1], $"timestamp {i} ({timestamps[i]:O}) does not follow {timestamps[i - 1]:O}");
        }
    }
}
