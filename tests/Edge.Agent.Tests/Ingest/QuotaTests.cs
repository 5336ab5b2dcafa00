using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Formatter;

namespace Edge.Agent.Tests.Ingest;

public sealed class QuotaTests
{
    private const string Oxy = "OXY-8844-5521";

    [Fact]
    public async Task A_full_journal_sheds_routine_readings_then_answers_quota_exceeded_and_keeps_every_alarm()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:QuotaBytes=1048576");
        var secret = await agent.Admin.AddDeviceAsync(Oxy);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Oxy, secret);

        for (var i = 0; i < 100; i++)
        {
            Assert.True((await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start.AddSeconds(i)))).IsSuccess);
        }

        var alarms = 0;
        MqttClientPublishResult last;
        while (true)
        {
            last = await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start.AddSeconds(1000 + alarms), alarm: "LOW_PURITY"));
            if (!last.IsSuccess)
            {
                break;
            }

            alarms++;
            Assert.True(alarms < 10_000, "the quota never filled");
        }

        Assert.Equal(MqttClientPublishReasonCode.QuotaExceeded, last.ReasonCode);
        Assert.Contains("full", last.ReasonString);
        Assert.Equal(alarms, agent.Journal.Read(Lane.Urgent, 0, 100_000).Count);
        Assert.Empty(agent.Journal.Read(Lane.Routine, 0, 1000));
        var status = await agent.Admin.StatusAsync();
        Assert.Equal(100, status.Journal.ShedByReason["quota"]);
        Assert.Equal(1, status.Ingest.RefusedByReason["QuotaExceeded"]);
        Assert.True(status.Journal.UsedBytes <= status.Journal.QuotaBytes);
        Assert.Equal(0, status.DeadLetters); // back-pressure is not bad data
    }

    [Fact]
    public async Task An_mqtt_3_1_1_device_over_quota_is_disconnected_so_it_keeps_the_reading_and_re_sends()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:QuotaBytes=1048576");
        var secret = await agent.Admin.AddDeviceAsync(Oxy);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Oxy, secret, MqttProtocolVersion.V311);

        var sent = 0;
        var disconnected = false;
        while (!disconnected && sent < 10_000)
        {
            try
            {
                await device.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start.AddSeconds(sent), alarm: "LOW_PURITY"))
                    .WaitAsync(TimeSpan.FromSeconds(10));
                sent++;
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or TimeoutException or InvalidOperationException)
            {
                disconnected = true;
            }
        }

        Assert.True(disconnected, "an MQTT 3.1.1 device over quota must be disconnected rather than acknowledged");
        Assert.Equal(sent, agent.Journal.Read(Lane.Urgent, 0, 100_000).Count);
    }
}
