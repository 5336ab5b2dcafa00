using System.Text;
using System.Text.Json;
using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>The heartbeat's wire shape (camelCase, every property required) and what the cloud refuses in it, by field.</summary>
public sealed class GatewayHeartbeatTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 3, 12, 0, TimeSpan.Zero);

    private static GatewayHeartbeat Valid() => new("gw-north-1", At, "1.4.0", 60, At.AddHours(-5), 1840, At.AddMinutes(-14), 0,
        new Dictionary<string, long> { ["shed"] = 0 }, At.AddDays(29), true, 1, -412.5, 37);

    [Fact]
    public void A_heartbeat_round_trips_in_camel_case_and_stays_far_below_its_bound()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(Valid(), HeartbeatJsonContext.Default.GatewayHeartbeat);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\"oldestUnsyncedAt\":", text, StringComparison.Ordinal);
        Assert.Contains("\"certificateNotAfter\":", text, StringComparison.Ordinal);
        Assert.True(bytes.Length < GatewayHeartbeat.MaxBytes / 4, $"{bytes.Length} bytes");

        var back = JsonSerializer.Deserialize(bytes, HeartbeatJsonContext.Default.GatewayHeartbeat)!;
        Assert.Equal(Valid() with { NotStored = back.NotStored }, back);
        Assert.Null(back.Problem());
    }

    [Fact]
    public void A_heartbeat_missing_a_property_does_not_parse()
    {
        var text = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(Valid(), HeartbeatJsonContext.Default.GatewayHeartbeat))
            .Replace("\"backlog\":1840,", "", StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(text, HeartbeatJsonContext.Default.GatewayHeartbeat));
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "gatewayId", """{"gatewayId":"gw/+"}""" },
        { "agentVersion", """{"agentVersion":""}""" },
        { "intervalSeconds", """{"intervalSeconds":0}""" },
        { "backlog", """{"backlog":-1}""" },
        { "notStored", """{"notStored":{"shed":-5}}""" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Bad_values_are_refused_naming_the_field(string field, string change)
    {
        var heartbeat = Valid();
        using var patch = JsonDocument.Parse(change);
        var property = patch.RootElement.EnumerateObject().Single();
        heartbeat = property.Name switch
        {
            "gatewayId" => heartbeat with { GatewayId = property.Value.GetString()! },
            "agentVersion" => heartbeat with { AgentVersion = property.Value.GetString()! },
            "intervalSeconds" => heartbeat with { IntervalSeconds = property.Value.GetInt32() },
            "backlog" => heartbeat with { Backlog = property.Value.GetInt64() },
            _ => heartbeat with { NotStored = new Dictionary<string, long> { ["shed"] = -5 } },
        };

        Assert.StartsWith(field, heartbeat.Problem(), StringComparison.Ordinal);
    }
}
