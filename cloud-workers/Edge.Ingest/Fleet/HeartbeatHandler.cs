using Microsoft.Extensions.Logging;
using System.Text.Json;
using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Ingest.Metrics;
using Edge.Storage.Fleet;
using Edge.Storage.Registry;

namespace Edge.Ingest.Fleet;

/// <summary>
/// Records a gateway's heartbeat (<c>edge/v1/{gatewayId}/heartbeat</c>) as its latest health and marks the gateway seen.
/// Never trusts the gateway: the message is bounded in size, must parse strictly, must name the gateway of its topic (the
/// broker's ACL makes the topic the certificate's identity), and may not be dated far ahead of the worker's clock (a
/// gateway clock set to next year would otherwise pin its health there). Refusals are logged, counted and acknowledged:
/// sending the same bytes again cannot change the answer.
/// </summary>
internal sealed class HeartbeatHandler(HeartbeatRecorder recorder, GatewayPresence presence, WorkerMetrics metrics, TimeProvider time, ILogger<HeartbeatHandler> logger)
    : IGatewayMessageHandler
{
    /// <summary>How far ahead of the worker's clock a heartbeat may be dated.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(5);

    public UplinkTopicKind Kind => UplinkTopicKind.Heartbeat;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (Refusal(gatewayId, payload, now, out var heartbeat) is { } refusal)
        {
            metrics.Heartbeat("refused");
            Log.HeartbeatRefused(logger, gatewayId, refusal);
            return;
        }

        var outcome = await recorder.RecordAsync(heartbeat!, now, cancellationToken);
        if (outcome == HeartbeatOutcome.UnknownGateway)
        {
            metrics.Heartbeat("refused");
            Log.HeartbeatRefused(logger, gatewayId, "the gateway is not registered");
            return;
        }

        metrics.Heartbeat(outcome == HeartbeatOutcome.Recorded ? "recorded" : "stale");
        Log.HeartbeatRecorded(logger, gatewayId, heartbeat!.At, outcome.ToString());
        await presence.TouchAsync(gatewayId, cancellationToken);
    }

    private static string? Refusal(string gatewayId, ReadOnlyMemory<byte> payload, DateTimeOffset now, out GatewayHeartbeat? heartbeat)
    {
        heartbeat = null;
        if (payload.Length > GatewayHeartbeat.MaxBytes)
        {
            return $"{payload.Length} bytes, above the limit of {GatewayHeartbeat.MaxBytes}";
        }

        try
        {
            heartbeat = JsonSerializer.Deserialize(payload.Span, HeartbeatJsonContext.Default.GatewayHeartbeat);
        }
        catch (JsonException ex)
        {
            return $"not a heartbeat: {ex.Message}";
        }

        if (heartbeat is null)
        {
            return "not a heartbeat: null";
        }

        if (heartbeat.GatewayId != gatewayId)
        {
            return $"gatewayId: '{heartbeat.GatewayId}' is not the topic's gateway";
        }

        if (heartbeat.At > now + MaxAhead)
        {
            return $"at: {heartbeat.At:o} is more than {MaxAhead.TotalMinutes} minutes ahead of the cloud's clock";
        }

        return heartbeat.Problem();
    }
}
