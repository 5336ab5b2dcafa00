using System.Text.Json.Serialization;

namespace Edge.Storage.Alerts;

/// <summary>The JSON body of a webhook request: what happened, which delivery this is, and the alert.</summary>
/// <param name="Type">Always <see cref="AlertRaised"/> in v1; receivers should ignore types they do not know.</param>
/// <param name="DeliveryId">The delivery id, also in <c>X-Edge-Webhook-Id</c>; the same on every retry, so receivers de-duplicate on it.</param>
/// <param name="Attempt">1 for the first attempt, 2 for the first retry, ….</param>
/// <param name="Alert">The alert, with the same field names as <c>GET /v1/alerts</c>.</param>
public sealed record WebhookEvent(string Type, long DeliveryId, int Attempt, Alert Alert)
{
    public const string AlertRaised = "alert.raised";
}

/// <summary>Source-generated JSON for webhook bodies and alerts: snake_case names, nulls written out, as receivers read them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WebhookEvent))]
[JsonSerializable(typeof(Alert))]
public sealed partial class AlertJsonContext : JsonSerializerContext;
