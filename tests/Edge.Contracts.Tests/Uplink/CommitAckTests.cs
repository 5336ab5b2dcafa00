using System.Text.Json;
using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

public sealed class CommitAckTests
{
    private static readonly CommitAck Ack = new("gw-clinic-042", 1_734_120_042_000_117, BatchLanes.Urgent, 120_001, 120_500, CommitAck.StatusStored, 497, 2, 1);

    [Fact]
    public void An_ack_is_camel_case_json_with_every_field()
    {
        var json = JsonSerializer.Serialize(Ack, UplinkJsonContext.Default.CommitAck);

        Assert.Equal(
            """{"gatewayId":"gw-clinic-042","epoch":1734120042000117,"lane":"urgent","firstSequence":120001,"lastSequence":120500,"status":"stored","stored":497,"duplicates":2,"rejected":1}""",
            json);
    }

    [Theory]
    [InlineData(CommitAck.StatusStored)]
    [InlineData(CommitAck.StatusDeadLettered)]
    public void An_ack_round_trips(string status)
    {
        var ack = Ack with { Status = status };

        var read = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(ack, UplinkJsonContext.Default.CommitAck), UplinkJsonContext.Default.CommitAck);

        Assert.Equal(ack, read);
    }

    [Fact]
    public void The_status_values_are_the_documented_words()
    {
        Assert.Equal("stored", CommitAck.StatusStored);
        Assert.Equal("dead-lettered", CommitAck.StatusDeadLettered);
    }

    [Theory]
    [InlineData("""{"epoch":1,"lane":"urgent","firstSequence":1,"lastSequence":2,"status":"stored","stored":2,"duplicates":0,"rejected":0}""")]
    [InlineData("""{"gatewayId":"gw","epoch":1,"lane":"urgent","firstSequence":1,"status":"stored","stored":2,"duplicates":0,"rejected":0}""")]
    [InlineData("""{"gatewayId":null,"epoch":1,"lane":"urgent","firstSequence":1,"lastSequence":2,"status":"stored","stored":2,"duplicates":0,"rejected":0}""")]
    [InlineData("""{"gatewayId":"gw","epoch":"1","lane":"urgent","firstSequence":1,"lastSequence":2,"status":"stored","stored":2,"duplicates":0,"rejected":0}""")]
    [InlineData("""{"gatewayId":"gw","epoch":1,"epoch":2,"lane":"urgent","firstSequence":1,"lastSequence":2,"status":"stored","stored":2,"duplicates":0,"rejected":0}""")]
    public void An_ack_with_a_missing_null_mistyped_or_repeated_field_is_refused(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, UplinkJsonContext.Default.CommitAck));
    }
}
