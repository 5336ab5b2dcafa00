using Edge.Testing.Agent;
using Edge.Testing;
using Edge.Testing.Mqtt;

namespace Edge.Agent.Tests.Journal;

/// <summary>Dead letters keep a truncated topic and reason, a 4 KiB preview, and stay within their own budget.</summary>
public sealed class DeadLetterBudgetTests
{
    private const string Serial = "OXY-8844-5521";

    [Fact]
    public async Task A_refused_publish_with_a_huge_topic_is_kept_truncated_and_old_letters_are_evicted_past_the_byte_budget()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:DeadLetterCapacity=1000", "--Agent:Journal:DeadLetterMaxBytes=65536");
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));

        var topic = $"devices/{Serial}/bogus/" + new string('t', 20_000);
        for (var i = 0; i < 40; i++)
        {
            var result = await device.PublishAsync(topic + i, new byte[50_000]);
            Assert.Equal(MQTTnet.MqttClientPublishReasonCode.TopicNameInvalid, result.ReasonCode);
        }

        await Eventually.TrueAsync(async () => Metric(await agent.Admin.GetStringAsync("/v1/metrics"), "edge_journal_dead_letters_evicted_total") > 0,
            TimeSpan.FromSeconds(10), "old dead letters to be evicted");
        var letters = agent.Journal.ListDeadLetters(1000);
        Assert.All(letters, l => Assert.True(l.Letter.Topic.Length <= 256 && l.Letter.Reason.Length <= 256 && l.Letter.Payload.Length <= 4096 && l.PayloadBytes == 50_000,
            $"topic {l.Letter.Topic.Length} chars, reason {l.Letter.Reason.Length}, preview {l.Letter.Payload.Length} of {l.PayloadBytes} bytes"));
        var bytes = Metric(await agent.Admin.GetStringAsync("/v1/metrics"), "edge_journal_dead_letters_size_bytes");
        Assert.True(bytes <= 65_536, $"{bytes} bytes of dead letters");
        Assert.Equal(letters.Count, agent.Journal.Snapshot.DeadLetters);
        Assert.Equal(0, agent.Journal.Snapshot.UsedBytes);
    }

    private static long Metric(string metrics, string name)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? -1 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
