using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Topics;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Ingest;

/// <summary>
/// A device clock set wrong must not silently put readings in the wrong place: skewed readings are stored and flagged per
/// device, readings from the far future are refused with the reason, and only while the gateway trusts its own clock.
/// </summary>
public sealed class DeviceClockTests
{
    private const string Serial = "OXY-8844-5521";

    [Fact]
    public async Task A_reading_dated_days_ahead_is_refused_with_the_reason_and_dead_lettered_while_the_gateway_clock_is_trusted()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Clock:TrustGatewayClock=always");
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));

        var result = await device.PublishAsync(DeviceTopics.Telemetry(Serial), Seed.Oxygen(Serial, DateTimeOffset.UtcNow.AddDays(3)));

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, result.ReasonCode);
        Assert.Contains("ahead of the gateway's clock", result.ReasonString, StringComparison.Ordinal);
        Assert.Contains("Agent:Clock:MaxAheadSeconds", result.ReasonString, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => agent.Journal.ListDeadLetters(10).Any(d => d.Letter.Reason.Contains("ahead of the gateway's clock", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the dead letter");
        Assert.Equal(0, agent.Journal.Snapshot.EntriesPerLane.Sum());
        Assert.Equal(1, MetricsEndpoint.Value(await agent.Admin.GetStringAsync("v1/metrics"), "edge_ingest_clock_future_refused_total"));
    }

    [Fact]
    public async Task A_device_clock_two_hours_behind_is_stored_flagged_and_named_in_the_status()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Clock:TrustGatewayClock=always");
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var behind = DateTimeOffset.UtcNow.AddHours(-2);

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await device.PublishAsync(DeviceTopics.Telemetry(Serial), Seed.Oxygen(Serial, behind.AddSeconds(i)))).IsSuccess);
        }

        Assert.Equal(3, agent.Journal.Snapshot.EntriesPerLane.Sum());
        var clocks = (await agent.Admin.StatusAsync()).Clocks!;
        var skewed = Assert.Single(clocks.SkewedDevices);
        Assert.Equal(Serial, skewed.Serial);
        Assert.InRange(skewed.LastSkewSeconds, -7300, -7100);
        Assert.Equal(3, skewed.SkewedReadings);
        Assert.True(clocks.GatewayTrusted);
        var metrics = await agent.Admin.GetStringAsync("v1/metrics");
        Assert.Equal(3, MetricsEndpoint.Value(metrics, "edge_ingest_clock_skewed_readings_total"));
        Assert.Equal(1, MetricsEndpoint.Value(metrics, "edge_ingest_devices_clock_skewed"));

        // Set right, its next reading clears it from the list.
        Assert.True((await device.PublishAsync(DeviceTopics.Telemetry(Serial), Seed.Oxygen(Serial, DateTimeOffset.UtcNow))).IsSuccess);
        Assert.Empty((await agent.Admin.StatusAsync()).Clocks!.SkewedDevices);
    }

    [Fact]
    public async Task While_the_gateway_clock_is_not_trusted_a_reading_dated_days_ahead_is_stored_and_flagged_not_refused()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Clock:TrustGatewayClock=never");
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));

        var result = await device.PublishAsync(DeviceTopics.Telemetry(Serial), Seed.Oxygen(Serial, DateTimeOffset.UtcNow.AddDays(3)));

        Assert.True(result.IsSuccess);
        var clocks = (await agent.Admin.StatusAsync()).Clocks!;
        Assert.False(clocks.GatewayTrusted);
        Assert.InRange(Assert.Single(clocks.SkewedDevices).LastSkewSeconds, 2.9 * 86400, 3.1 * 86400);
    }
}
