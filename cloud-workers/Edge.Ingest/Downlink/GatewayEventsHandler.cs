using System.Text.Json;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Storage.Downlink;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Downlink;

/// <summary>
/// Records a gateway's device-state events (<c>edge/v1/{gatewayId}/events</c>) in the registry, then acknowledges them
/// on <c>…/events/ack</c> so the gateway forgets them. Ignored events (a device of another gateway, an unknown version)
/// are logged and acknowledged too: sending them again cannot change the answer. Any batch also makes the configs and
/// firmware offers still queued for that gateway due at once (<see cref="DownlinkOutbox.SendNowAsync"/>).
/// </summary>
internal sealed class GatewayEventsHandler(GatewayEventRecorder recorder, DownlinkOutbox outbox, ILogger<GatewayEventsHandler> logger) : IGatewayMessageHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.Events;

    public async Task HandleAsync(string gatewayId, ReadOnlyMemory<byte> payload, ICloudPublisher publisher, CancellationToken cancellationToken)
    {
        GatewayEventBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize(payload.Span, GatewayEventsJsonContext.Default.GatewayEventBatch);
        }
        catch (JsonException ex)
        {
            Log.EventsRefused(logger, gatewayId, ex.Message);
            return;
        }

        if (batch is null || batch.GatewayId != gatewayId || batch.Events.Count > GatewayEventBatch.MaxEvents)
        {
            Log.EventsRefused(logger, gatewayId, "the batch is empty, too large, or names another gateway");
            return;
        }

        foreach (var outcome in await recorder.RecordAsync(gatewayId, batch.Events, cancellationToken))
        {
            if (outcome.Ignored is not null)
            {
                Log.EventIgnored(logger, gatewayId, outcome.Id, outcome.Type, outcome.Serial, outcome.Ignored);
            }
        }

        // A batch (the gateway sends one, empty if need be, after every connect) means it is listening now.
        await outbox.SendNowAsync(gatewayId, cancellationToken);

        var ack = new EventsAck(gatewayId, batch.Events.Select(e => e.Id).ToList());
        await publisher.PublishAsync(UplinkTopics.EventsAck(gatewayId), JsonSerializer.SerializeToUtf8Bytes(ack, GatewayEventsJsonContext.Default.EventsAck), cancellationToken)
            ;
    }
}
