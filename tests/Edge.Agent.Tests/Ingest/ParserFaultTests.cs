using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Topics;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using Edge.Testing.Logging;

namespace Edge.Agent.Tests.Ingest;

/// <summary>
/// Issue #22, "parsers that throw": a payload the fuzzer found making the validator throw used to end the device's
/// connection with no reason code, no dead letter and no log line. It must be refused like any bad payload.
/// </summary>
public sealed class ParserFaultTests
{
    private const string Oxy = "OXY-8844-5521";

    // fuzz/regressions/telemetry/property-name-lone-high-surrogate, on an oxygen concentrator: "metrics" carries an
    // unpaired surrogate escape, so the serializer skips it as unknown and the field-by-field explanation tripped on it.
    private const string ThrowingPayload =
        """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics\ud800":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2},"status":"v\ud800"}""";

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task A_payload_that_made_the_validator_throw_is_refused_dead_lettered_and_logged_and_the_connection_stays_usable(MqttProtocolVersion protocol)
    {
        var logs = new RecordedLogs();
        await using var agent = await InProcessAgent.StartAsync(services => services.AddSingleton<ILoggerProvider>(logs));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Oxy, await agent.Admin.AddDeviceAsync(Oxy), protocol);
        var topic = DeviceTopics.Telemetry(Oxy);

        var refused = await device.PublishAsync(topic, ThrowingPayload);

        if (protocol == MqttProtocolVersion.V500)
        {
            Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
            Assert.False(string.IsNullOrEmpty(refused.ReasonString));
        }
        await Eventually.TrueAsync(
            () => agent.Journal.ListDeadLetters(10).Any(d => d.Letter.Topic == topic && Encoding.UTF8.GetString(d.Letter.Payload.Span) == ThrowingPayload),
            TimeSpan.FromSeconds(10), "the dead letter");
        Assert.Contains(logs.Entries, e => e.EventId is 3001 or 3010 && e.Message.Contains(topic, StringComparison.Ordinal));

        // The same connection goes on: the next reading is acknowledged and journaled.
        Assert.True(device.Client.IsConnected);
        var next = await device.PublishAsync(topic, Seed.Oxygen(Oxy, Seed.Start));
        Assert.True(next.IsSuccess, $"{next.ReasonCode} {next.ReasonString}");
        Assert.Single(agent.Journal.Read(Lane.Routine, 0, 10));
    }
}
