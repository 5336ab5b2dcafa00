using Microsoft.Extensions.Logging;

namespace Edge.Storage;

/// <summary>The alert log lines of the stores' <see cref="Log"/> (55xx), kept beside the alert code.</summary>
internal static partial class Log
{
    // 55xx alerts
    [LoggerMessage(5501, LogLevel.Information, "Raised {Count} new alerts ({Deliveries} webhook deliveries queued) from gateway {GatewayId}; first: {Rule} on {Serial}")]
    public static partial void AlertsRaised(ILogger logger, int count, int deliveries, string gatewayId, string rule, string serial);

    [LoggerMessage(5502, LogLevel.Information, "Webhook subscription {SubscriptionId} created by {CreatedBy} for clinic {ClinicId} to {Endpoint}")]
    public static partial void SubscriptionCreated(ILogger logger, Guid subscriptionId, string createdBy, string clinicId, string endpoint);

    [LoggerMessage(5503, LogLevel.Information, "Webhook subscription {SubscriptionId} deactivated; {Dropped} pending deliveries dropped")]
    public static partial void SubscriptionDeactivated(ILogger logger, Guid subscriptionId, int dropped);

    [LoggerMessage(5504, LogLevel.Information, "Webhook delivery {DeliveryId} requeued from the dead letters")]
    public static partial void DeliveryRequeued(ILogger logger, long deliveryId);
}
