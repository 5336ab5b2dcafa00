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

    /// <summary>
    /// The MQTT 5 shared subscription through which worker replicas split every gateway's telemetry:
    /// <c>$share/{group}/edge/v1/+/telemetry</c>. The group follows the gateway id rule.
    /// </summary>
    public static string SharedTelemetrySubscription(string group)
    {
        if (!IsValidGatewayId(group))
        {
            throw new ArgumentException($"'{group}' cannot be a shared subscription group: use 1-64 letters, digits, '-' or '_'", nameof(group));
        }

        return string.Concat("$share/", group, "/", Root, "+/telemetry");
    }

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

        switch (rest[(slash + 1)..])
        {
            case "telemetry":
                kind = UplinkTopicKind.Telemetry;
                break;
            case "reports":
                kind = UplinkTopicKind.Reports;
                break;
            case "events":
                kind = UplinkTopicKind.Events;
                break;
            case "ack":
                kind = UplinkTopicKind.Ack;
                break;
            case "config":
                kind = UplinkTopicKind.Config;
                break;
            default:
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
