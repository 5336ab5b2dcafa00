using System.Text.Json;
using Edge.Agent.Uplink;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>
/// Sends the event outbox on <c>edge/v1/{gatewayId}/events</c>, oldest first, and sends it again until the cloud
/// acknowledges it (the ack removes the events; <see cref="EventsAckDownlink"/>). Events are idempotent in the cloud,
/// so a re-send after a lost ack is harmless.
/// </summary>
public sealed class EventSender(DeviceStateStore store, ILogger<EventSender> logger) : IUplinkWorker
{
    /// <summary>How long to wait for an ack before sending unacknowledged events again.</summary>
    internal static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    public async Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken)
    {
        var topic = UplinkTopics.Events(channel.GatewayId);
        while (!stoppingToken.IsCancellationRequested)
        {
            await channel.WaitConnectedAsync(stoppingToken).ConfigureAwait(false);
            var pending = store.PendingEvents(GatewayEventBatch.MaxEvents);
            if (pending.Count == 0)
            {
                await store.WaitForEventAsync(AckTimeout, stoppingToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                var batch = new GatewayEventBatch(channel.GatewayId, pending);
                await channel.PublishAsync(topic, JsonSerializer.SerializeToUtf8Bytes(batch, GatewayEventsJsonContext.Default.GatewayEventBatch), stoppingToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.EventsPublishFailed(logger, pending.Count, ex.Message);
            }

            // Wake early when the ack (or a new event) arrives; otherwise re-send what is still pending.
            await store.WaitForEventAsync(AckTimeout, stoppingToken).ConfigureAwait(false);
        }
    }
}
