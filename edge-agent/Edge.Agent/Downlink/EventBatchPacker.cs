using System.Text.Json;
using Edge.Contracts.Downlink;

namespace Edge.Agent.Downlink;

/// <summary>
/// Packs the oldest pending events into one message no larger than the uplink's message limit. 100 events with
/// 500-character reasons or on-site configs are far above 128 KB, so the count alone does not bound a batch.
/// </summary>
internal static class EventBatchPacker
{
    /// <summary>
    /// The longest prefix of <paramref name="pending"/> whose batch fits <paramref name="maxBytes"/>, serialized; no events
    /// when the first alone does not fit (the caller sets it aside).
    /// </summary>
    public static (byte[] Message, int Count) Pack(string gatewayId, IReadOnlyList<GatewayEvent> pending, int maxBytes)
    {
        var count = pending.Count;
        while (true)
        {
            var message = Serialize(gatewayId, count == pending.Count ? pending : [.. pending.Take(count)]);
            if (message.Length <= maxBytes || count == 0)
            {
                return (message, count);
            }

            // Shrink in proportion to the overshoot; events differ in size, so this may take a few rounds.
            count = Math.Min(count - 1, (int)((long)count * maxBytes / message.Length));
        }
    }

    private static byte[] Serialize(string gatewayId, IReadOnlyList<GatewayEvent> events) =>
        JsonSerializer.SerializeToUtf8Bytes(new GatewayEventBatch(gatewayId, events), GatewayEventsJsonContext.Default.GatewayEventBatch);
}
