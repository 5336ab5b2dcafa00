using System.Text.Json;
using Edge.Agent.Uplink;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>The cloud recorded these events (<c>edge/v1/{gatewayId}/events/ack</c>): the outbox forgets them.</summary>
internal sealed class EventsAckDownlink(DeviceStateStore store, ILogger<EventsAckDownlink> logger) : IDownlinkHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.EventsAck;

    public async ValueTask HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        EventsAck? ack;
        try
        {
            ack = JsonSerializer.Deserialize(payload.Span, GatewayEventsJsonContext.Default.EventsAck);
        }
        catch (JsonException ex)
        {
            Log.DownlinkRefused(logger, "events/ack", "?", ex.Message);
            return;
        }

        if (ack is { Ids.Count: > 0 })
        {
            await store.RemoveEventsAsync(ack.Ids);
        }
    }
}
