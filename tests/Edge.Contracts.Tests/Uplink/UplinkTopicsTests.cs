using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

public sealed class UplinkTopicsTests
{
    private const string Gateway = "gw-clinic_042";

    public static TheoryData<string, UplinkTopicKind> BuiltTopics => new()
    {
        { UplinkTopics.Telemetry(Gateway), UplinkTopicKind.Telemetry },
        { UplinkTopics.Reports(Gateway), UplinkTopicKind.Reports },
        { UplinkTopics.Events(Gateway), UplinkTopicKind.Events },
        { UplinkTopics.Ack(Gateway), UplinkTopicKind.Ack },
        { UplinkTopics.Config(Gateway), UplinkTopicKind.Config },
        { UplinkTopics.Firmware(Gateway), UplinkTopicKind.Firmware },
        { UplinkTopics.EventsAck(Gateway), UplinkTopicKind.EventsAck },
        { UplinkTopics.UploadRequest(Gateway), UplinkTopicKind.UploadRequest },
        { UplinkTopics.UploadResponse(Gateway), UplinkTopicKind.UploadResponse },
        { UplinkTopics.Heartbeat(Gateway), UplinkTopicKind.Heartbeat },
    };

    [Fact]
    public void Builders_make_the_documented_topics()
    {
        Assert.Equal("edge/v1/gw-clinic_042/telemetry", UplinkTopics.Telemetry(Gateway));
        Assert.Equal("edge/v1/gw-clinic_042/reports", UplinkTopics.Reports(Gateway));
        Assert.Equal("edge/v1/gw-clinic_042/events", UplinkTopics.Events(Gateway));
        Assert.Equal("edge/v1/gw-clinic_042/ack", UplinkTopics.Ack(Gateway));
        Assert.Equal("edge/v1/gw-clinic_042/config", UplinkTopics.Config(Gateway));
        Assert.Equal("edge/v1/gw-clinic_042/heartbeat", UplinkTopics.Heartbeat(Gateway));
        Assert.Equal("$share/ingest-workers/edge/v1/+/telemetry", UplinkTopics.SharedTelemetrySubscription("ingest-workers"));
    }

    [Theory]
    [MemberData(nameof(BuiltTopics))]
    public void Every_built_topic_parses_back_to_its_gateway_and_kind(string topic, UplinkTopicKind kind)
    {
        Assert.True(UplinkTopics.TryParseGatewayId(topic, out var gatewayId));
        Assert.Equal(Gateway, gatewayId);
        Assert.True(UplinkTopics.TryParse(topic, out var parsedGateway, out var parsedKind));
        Assert.Equal(Gateway, parsedGateway);
        Assert.Equal(kind, parsedKind);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("GW_1-x")]
    [InlineData("g123456789012345678901234567890123456789012345678901234567890123")]
    public void Gateway_ids_of_letters_digits_dash_and_underscore_up_to_64_are_accepted(string gatewayId)
    {
        Assert.True(UplinkTopics.IsValidGatewayId(gatewayId));
        Assert.True(UplinkTopics.TryParseGatewayId(UplinkTopics.Telemetry(gatewayId), out var parsed));
        Assert.Equal(gatewayId, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("gw/1")]
    [InlineData("gw+")]
    [InlineData("#")]
    [InlineData("gw 1")]
    [InlineData("gw.1")]
    [InlineData("gwé")]
    [InlineData("g1234567890123456789012345678901234567890123456789012345678901234")]
    public void Builders_refuse_a_gateway_id_that_could_change_the_topic(string gatewayId)
    {
        Assert.False(UplinkTopics.IsValidGatewayId(gatewayId));
        var ex = Assert.Throws<ArgumentException>(() => UplinkTopics.Telemetry(gatewayId));
        Assert.Equal("gatewayId", ex.ParamName);
        Assert.Contains("is not a gateway id: use 1-64 letters, digits, '-' or '_'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => UplinkTopics.Ack(gatewayId));
        Assert.Throws<ArgumentException>(() => UplinkTopics.Config(gatewayId));
        Assert.Throws<ArgumentException>(() => UplinkTopics.Reports(gatewayId));
        Assert.Throws<ArgumentException>(() => UplinkTopics.Events(gatewayId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("workers/a")]
    [InlineData("+")]
    [InlineData("#")]
    public void The_shared_subscription_refuses_a_group_that_could_change_the_filter(string group)
    {
        var ex = Assert.Throws<ArgumentException>(() => UplinkTopics.SharedTelemetrySubscription(group));
        Assert.Equal("group", ex.ParamName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("edge/v1/gw/unknown")]
    [InlineData("edge/v2/gw/telemetry")]
    [InlineData("edge/v1//telemetry")]
    [InlineData("edge/v1/gw")]
    [InlineData("edge/v1/gw/")]
    [InlineData("edge/v1/gw/telemetry/extra")]
    [InlineData("edge/v1/gw/ack/")]
    [InlineData("edge/v1/+/telemetry")]
    [InlineData("edge/v1/#")]
    [InlineData("$share/workers/edge/v1/+/telemetry")]
    [InlineData("devices/OXY-8844-5521/telemetry")]
    [InlineData("EDGE/v1/gw/telemetry")]
    [InlineData("edge/v1/gw.1/telemetry")]
    public void Anything_the_builders_would_not_make_is_not_parsed(string? topic)
    {
        Assert.False(UplinkTopics.TryParseGatewayId(topic, out var gatewayId));
        Assert.Equal(string.Empty, gatewayId);
    }
}
