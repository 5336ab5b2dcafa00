using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;

namespace Edge.Agent.Tests.Ingest;

public sealed class IngestTests : IAsyncLifetime
{
    private const string Cpap = "CPAP-2301-9912";
    private const string Oxy = "OXY-8844-5521";
    private const string Ecg = "ECG-7711-0045";

    private InProcessAgent _agent = null!;
    private readonly Dictionary<string, string> _secrets = [];

    public async Task InitializeAsync()
    {
        _agent = await InProcessAgent.StartAsync();
        foreach (var serial in new[] { Cpap, Oxy, Ecg })
        {
            _secrets[serial] = await _agent.Admin.AddDeviceAsync(serial);
        }
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Every_seed_reading_is_acknowledged_and_is_in_the_journal_when_the_puback_arrives()
    {
        var seeds = new (string Serial, string Payload)[]
        {
            (Cpap, """{"serial":"CPAP-2301-9912","timestamp":"2025-11-24T10:15:32Z","metrics":{"pressure_cm_h2o":12.4,"respiratory_rate":18,"leak_rate_lpm":24.1,"patient_mode":"AutoCPAP"},"firmware":"v4.2.1"}"""),
            (Oxy, """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null},"status":"online"}"""),
            (Ecg, """{"serial":"ECG-7711-0045","timestamp":"2025-11-24T10:30:11Z","metrics":{"heart_rate_bpm":78,"qrs_ms":92,"qt_ms":380,"arrhythmia":"none","signal_quality":"good"},"lead":"II"}"""),
        };

        foreach (var (serial, payload) in seeds)
        {
            await using var device = await TestDevice.ConnectAsync(_agent.Port, serial, _secrets[serial]);
            var result = await device.PublishAsync($"devices/{serial}/telemetry", payload);

            Assert.True(result.IsSuccess, $"{serial}: {result.ReasonCode} {result.ReasonString}");
            // No waiting: the PUBACK is only sent after the commit, so the entry must already be readable.
            var entry = _agent.Journal.Read(Lane.Routine, 0, 100).Single(e => e.Serial == serial);
            Assert.Equal(payload, Encoding.UTF8.GetString(entry.Payload));
        }
    }

    [Fact]
    public async Task Alarms_and_readings_outside_cpap_thresholds_go_to_the_urgent_lane()
    {
        await using var oxy = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        await using var ecg = await TestDevice.ConnectAsync(_agent.Port, Ecg, _secrets[Ecg]);
        await using var cpap = await TestDevice.ConnectAsync(_agent.Port, Cpap, _secrets[Cpap]);

        await oxy.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start, alarm: "LOW_PURITY"));
        await ecg.PublishAsync($"devices/{Ecg}/telemetry", Seed.Ecg(Ecg, Seed.Start, arrhythmia: "AFib"));
        await cpap.PublishAsync($"devices/{Cpap}/telemetry", Seed.Cpap(Cpap, Seed.Start, leak: 45));
        await cpap.PublishAsync($"devices/{Cpap}/telemetry", Seed.Cpap(Cpap, Seed.Start.AddSeconds(1), rr: 8));
        await cpap.PublishAsync($"devices/{Cpap}/telemetry", Seed.Cpap(Cpap, Seed.Start.AddSeconds(2)));

        var urgent = _agent.Journal.Read(Lane.Urgent, 0, 100);
        var routine = _agent.Journal.Read(Lane.Routine, 0, 100);
        Assert.Equal(4, urgent.Count);
        Assert.Equal([Cpap], routine.Select(e => e.Serial));
    }

    [Theory]
    [InlineData("malformed JSON", """{"serial":"OXY-8844-5521","timestamp":""", "$")]
    [InlineData("wrong type", """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":"high","flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "metrics.oxygen_purity_pct")]
    [InlineData("out of range", """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":140,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "metrics.oxygen_purity_pct")]
    [InlineData("serial mismatch", """{"serial":"OXY-0000-0000","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "serial")]
    [InlineData("missing timestamp", """{"serial":"OXY-8844-5521","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "timestamp")]
    [InlineData("timestamp without offset", """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "timestamp")]
    [InlineData("NaN", """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":NaN,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null}}""", "$: malformed JSON")]
    public async Task An_invalid_reading_is_refused_with_the_field_and_dead_lettered_while_valid_traffic_continues(string what, string payload, string field)
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);

        var refused = await device.PublishAsync($"devices/{Oxy}/telemetry", payload);
        var valid = await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start));

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
        Assert.Contains(field, refused.ReasonString);
        Assert.True(valid.IsSuccess, what);
        Assert.Single(_agent.Journal.Read(Lane.Routine, 0, 10));
        await Eventually.TrueAsync(() => _agent.Journal.ListDeadLetters(10).Any(d => d.Letter.Reason.Contains(field, StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the dead letter");
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_refused_for_its_size_and_the_connection_stays_usable()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        // 200 KB: over Agent:Broker:MaxPayloadBytes (64 KiB), within the packet limit (256 KiB), so MQTTnet reads it.
        var huge = Encoding.UTF8.GetBytes(Seed.Oxygen(Oxy, Seed.Start).Replace("\"online\"", "\"" + new string('x', 200_000) + "\"", StringComparison.Ordinal));

        var refused = await device.PublishAsync($"devices/{Oxy}/telemetry", huge);
        var valid = await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start));

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
        Assert.Contains("65536", refused.ReasonString);
        Assert.True(valid.IsSuccess);
    }

    [Fact]
    public async Task A_packet_over_the_packet_limit_closes_only_that_connection_and_the_device_may_come_back()
    {
        // The default limit is the largest publish the agent accepts (a report PDF part, 20 MiB): set a small one.
        await using var agent = await InProcessAgent.StartAsync("--Agent:Broker:MaxPacketBytes=262144");
        var secret = await agent.Admin.AddDeviceAsync(Oxy);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Oxy, secret);
        var dropped = new TaskCompletionSource();
        device.Client.DisconnectedAsync += _ =>
        {
            dropped.TrySetResult();
            return Task.CompletedTask;
        };
        var huge = Encoding.UTF8.GetBytes(Seed.Oxygen(Oxy, Seed.Start).Replace("\"online\"", "\"" + new string('x', 1 << 20) + "\"", StringComparison.Ordinal));

        await Assert.ThrowsAnyAsync<Exception>(() => device.PublishAsync($"devices/{Oxy}/telemetry", huge));
        await dropped.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Counted once the listener has seen the connection end, which can be a moment after the device did.
        var metrics = agent.Service<Edge.Agent.Broker.Listener.ListenerMetrics>();
        await Eventually.TrueAsync(() => metrics.Closed.GetValueOrDefault(Edge.Agent.Broker.Listener.ListenerMetrics.PacketTooLarge) == 1,
            TimeSpan.FromSeconds(10), "the oversized packet to be counted");
        await using var again = await TestDevice.ConnectAsync(agent.Port, Oxy, secret);
        Assert.True((await again.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start))).IsSuccess);
        Assert.DoesNotContain(agent.Journal.Read(Lane.Routine, 0, 10), e => e.Payload.Length > 100_000);
    }

    [Fact]
    public async Task Invalid_utf8_is_refused()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        var bytes = Encoding.UTF8.GetBytes(Seed.Oxygen(Oxy, Seed.Start));
        var at = Array.IndexOf(bytes, (byte)'o', Array.IndexOf(bytes, (byte)'"', 100)); // inside "online"
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;

        var refused = await device.PublishAsync($"devices/{Oxy}/telemetry", bytes);

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
        await Eventually.TrueAsync(() => _agent.Journal.ListDeadLetters(10).Any(d => d.Letter.Payload.Length > 0 && d.Letter.Reason.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)), TimeSpan.FromSeconds(10), "the dead letter");
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        var deep = Seed.Oxygen(Oxy, Seed.Start).Replace("\"online\"", new string('[', 200) + new string(']', 200), StringComparison.Ordinal);
        var refused = await device.PublishAsync($"devices/{Oxy}/telemetry", deep);
        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
    }

    [Fact]
    public async Task A_device_re_sending_an_acknowledged_reading_is_acknowledged_without_a_second_entry()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        var reading = Seed.Oxygen(Oxy, Seed.Start);
        Assert.True((await device.PublishAsync($"devices/{Oxy}/telemetry", reading)).IsSuccess);
        Assert.True((await device.PublishAsync($"devices/{Oxy}/telemetry", reading)).IsSuccess);
        Assert.Single(_agent.Journal.Read(Lane.Routine, 0, 10));
        Assert.Equal(1, (await _agent.Admin.StatusAsync()).Ingest.Duplicates);
    }

    [Fact]
    public async Task Mqtt_3_1_1_devices_are_acknowledged_after_the_commit_and_their_bad_readings_are_dead_lettered()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy], MqttProtocolVersion.V311);

        var good = await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start));
        Assert.True(good.IsSuccess);
        Assert.Single(_agent.Journal.Read(Lane.Routine, 0, 10));

        // MQTT 3.1.1 has no negative PUBACK: the bad reading is acknowledged (re-sending cannot fix it) and kept aside.
        await device.PublishAsync($"devices/{Oxy}/telemetry", "not json");
        await Eventually.TrueAsync(() => _agent.Journal.ListDeadLetters(10).Count == 1, TimeSpan.FromSeconds(10), "the dead letter");
        Assert.Single(_agent.Journal.Read(Lane.Routine, 0, 10));
    }

    [Fact]
    public async Task Qos_0_telemetry_is_journaled_too()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, Oxy, _secrets[Oxy]);
        await device.Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"devices/{Oxy}/telemetry")
            .WithPayload(Seed.Oxygen(Oxy, Seed.Start))
            .Build());
        await Eventually.TrueAsync(() => _agent.Journal.Read(Lane.Routine, 0, 10).Count == 1, TimeSpan.FromSeconds(10), "the QoS 0 reading");
    }
}
