using Edge.Agent.Downlink;
using Edge.Agent.Uplink;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Tests.Uplink;

/// <summary>
/// AWS IoT Core refuses a message above 128 KB, and "KB" may mean 1,000 bytes. With the defaults, nothing the agent
/// publishes may come near it: the size check sits where every message passes, and each sender stays under it.
/// </summary>
public sealed class UplinkMessageSizeTests
{
    private const int AwsIotCoreMessageLimit = 128_000;
    private static readonly string LongestGatewayId = new('g', 64);

    [Fact]
    public void The_default_message_limit_with_the_longest_topic_and_mqtt_5_framing_is_under_128000_bytes()
    {
        var limit = new UplinkOptions().MaxBatchBytes;
        var longestTopic = Enum.GetValues<UplinkTopicKind>().Max(kind => UplinkTopics.For(LongestGatewayId, kind).Length);

        // PUBLISH: fixed header (1 + up to 4 bytes of length), topic (2 + its bytes), packet id (2), properties length (1).
        var framed = 5 + 2 + longestTopic + 2 + 1 + limit;

        Assert.True(framed <= AwsIotCoreMessageLimit, $"a full message with its topic and framing is {framed} bytes");
    }

    [Fact]
    public async Task A_message_above_the_limit_is_refused_before_it_is_paced_or_sent()
    {
        var options = Options.Create(new UplinkOptions { Host = "cloud.invalid" });
        await using var connection = new UplinkConnection(options, new Edge.Agent.Renewal.UplinkIdentity(options, Options.Create(new Edge.Agent.Hosting.AgentOptions())), "gw-1", [], TimeProvider.System, NullLogger<UplinkConnection>.Instance);

        var refused = await Assert.ThrowsAsync<UplinkMessageTooLargeException>(() =>
            connection.PublishAsync(UplinkTopics.Events("gw-1"), new byte[options.Value.MaxBatchBytes + 1], UplinkPriority.Urgent, CancellationToken.None));

        Assert.Equal(options.Value.MaxBatchBytes, refused.MaxBytes);
        Assert.Contains("Agent:Uplink:MaxBatchBytes", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_outbox_of_the_largest_events_is_sent_in_messages_under_the_limit()
    {
        // 100 events (the most per batch) whose 500-character reasons are made of characters JSON escapes to six bytes:
        // about 300 KB in one message before the packer.
        var reason = new string('\u0001', DeviceReplyReader.MaxReasonLength);
        var events = Enumerable.Range(1, GatewayEventBatch.MaxEvents)
            .Select(i => new GatewayEvent(i, GatewayEvent.ConfigRejected, "OXY-1000-0001", DateTimeOffset.UnixEpoch, Version: i, Reason: reason))
            .ToList();
        var limit = new UplinkOptions().MaxBatchBytes;

        var sentEvents = 0;
        while (sentEvents < events.Count)
        {
            var (message, count) = EventBatchPacker.Pack(LongestGatewayId, events[sentEvents..], limit);
            Assert.True(count > 0, "an event that fits alone was not packed");
            Assert.True(message.Length <= limit, $"an event message of {message.Length} bytes");
            sentEvents += count;
        }

        Assert.Equal(events.Count, sentEvents);
    }
}
