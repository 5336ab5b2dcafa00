namespace Edge.Contracts.Uplink;

/// <summary>Builds and recognises the gateway-to-cloud MQTT topics <c>edge/v1/{gatewayId}/…</c>.</summary>
/// <remarks>
/// Gateway ids are <c>^[A-Za-z0-9_-]{1,64}$</c>, checked by every builder: an id with '/', '+' or '#' would publish into
/// another gateway's tree or subscribe to all of them. The same rule is the agent's <c>Agent:GatewayId</c> option.
/// </remarks>
public static class UplinkTopics
{
    /// <summary>The longest gateway id; AWS IoT thing names allow 128, the topic stays well under its 256-byte limit.</summary>
    public const int MaxGatewayIdLength = 64;

    private const string Root = "edge/v1/";

    public static string Telemetry(string gatewayId) => Build(gatewayId, "/telemetry");

    public static string Reports(string gatewayId) => Build(gatewayId, "/reports");

    public static string Events(string gatewayId) => Build(gatewayId, "/events");

    /// <summary>Commit acknowledgements for this gateway (cloud to gateway).</summary>
    public static string Ack(string gatewayId) => Build(gatewayId, "/ack");

    /// <summary>Desired device configs for this gateway (cloud to gateway).</summary>
    public static string Config(string gatewayId) => Build(gatewayId, "/config");

    /// <summary>Firmware offers for this gateway's devices (cloud to gateway).</summary>
    public static string Firmware(string gatewayId) => Build(gatewayId, "/firmware");

    /// <summary>Acknowledgements of the gateway's events: the gateway forgets an event once it is acknowledged (cloud to gateway).</summary>
    public static string EventsAck(string gatewayId) => Build(gatewayId, "/events/ack");

    /// <summary>The gateway asks for a presigned upload URL (gateway to cloud).</summary>
    public static string UploadRequest(string gatewayId) => Build(gatewayId, "/uploads/request");

    /// <summary>The gateway's heartbeat (gateway to cloud): latest state, never journaled.</summary>
    public static string Heartbeat(string gatewayId) => Build(gatewayId, "/heartbeat");

    /// <summary>The cloud answers an upload request with a presigned URL (cloud to gateway).</summary>
    public static string UploadResponse(string gatewayId) => Build(gatewayId, "/uploads/response");

    /// <summary>
    /// The MQTT 5 shared subscription through which worker replicas split every gateway's telemetry:
    /// <c>$share/{group}/edge/v1/+/telemetry</c>. The group follows the gateway id rule.
    /// </summary>
    public static string SharedTelemetrySubscription(string group) => SharedSubscription(group, UplinkTopicKind.Telemetry);

    /// <summary>
    /// The MQTT 5 shared subscription through which worker replicas split one gateway-to-cloud topic of every gateway:
    /// <c>$share/{group}/edge/v1/+/{suffix}</c>. The group follows the gateway id rule.
    /// </summary>
    public static string SharedSubscription(string group, UplinkTopicKind kind)
    {
        if (!IsValidGatewayId(group))
        {
            throw new ArgumentException($"'{group}' cannot be a shared subscription group: use 1-64 letters, digits, '-' or '_'", nameof(group));
        }

        return string.Concat("$share/", group, "/", Root, "+/", Suffix(kind));
    }

    /// <summary>The topic of <paramref name="kind"/> for one gateway.</summary>
    public static string For(string gatewayId, UplinkTopicKind kind) => Build(gatewayId, "/" + Suffix(kind));

    private static string Suffix(UplinkTopicKind kind) => kind switch
    {
        UplinkTopicKind.Telemetry => "telemetry",
        UplinkTopicKind.Reports => "reports",
        UplinkTopicKind.Events => "events",
        UplinkTopicKind.Ack => "ack",
        UplinkTopicKind.Config => "config",
        UplinkTopicKind.Firmware => "firmware",
        UplinkTopicKind.EventsAck => "events/ack",
        UplinkTopicKind.UploadRequest => "uploads/request",
        UplinkTopicKind.UploadResponse => "uploads/response",
        UplinkTopicKind.Heartbeat => "heartbeat",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an uplink topic"),
    };

    /// <summary>True for <c>^[A-Za-z0-9_-]{1,64}$</c>.</summary>
    public static bool IsValidGatewayId(ReadOnlySpan<char> gatewayId)
    {
        if (gatewayId.IsEmpty || gatewayId.Length > MaxGatewayIdLength)
        {
            return false;
        }

        foreach (var c in gatewayId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The gateway id of any topic the builders make (a worker reads it off the telemetry topic it received on).</summary>
    public static bool TryParseGatewayId(string? topic, out string gatewayId) => TryParse(topic, out gatewayId, out _);

    /// <summary>Recognises exactly the topics the builders make, with a valid gateway id.</summary>
    public static bool TryParse(string? topic, out string gatewayId, out UplinkTopicKind kind)
    {
        gatewayId = string.Empty;
        kind = default;
        if (topic is null || !topic.StartsWith(Root, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic.AsSpan(Root.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0 || !IsValidGatewayId(rest[..slash]))
        {
            return false;
        }

        var suffix = rest[(slash + 1)..];
        var found = false;
        foreach (var candidate in Enum.GetValues<UplinkTopicKind>())
        {
            if (suffix.SequenceEqual(Suffix(candidate)))
            {
                kind = candidate;
                found = true;
                break;
            }
        }

        if (!found)
        {
            return false;
        }

        gatewayId = rest[..slash].ToString();
        return true;
    }

    private static string Build(string gatewayId, string suffix)
    {
        if (!IsValidGatewayId(gatewayId))
        {
            throw new ArgumentException($"'{gatewayId}' is not a gateway id: use 1-64 letters, digits, '-' or '_'", nameof(gatewayId));
        }

        return string.Concat(Root, gatewayId, suffix);
    }
}
