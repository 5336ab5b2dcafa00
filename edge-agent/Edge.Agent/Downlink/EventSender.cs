using System.Text.Json;
using Edge.Agent.Journal;
using Edge.Agent.Uplink;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Downlink;

/// <summary>
/// Sends the event outbox on <c>edge/v1/{gatewayId}/events</c>, oldest first, and sends it again until the cloud
/// acknowledges it (the ack removes the events; <see cref="EventsAckDownlink"/>). Events are idempotent in the cloud,
/// so a re-send after a lost ack is harmless. A batch holds as many of the oldest events as fit the uplink's message
/// limit; an event that cannot fit even alone is set aside in the journal's dead letters, never retried forever.
/// </summary>
internal sealed class EventSender(DeviceStateStore store, ReadingJournal journal, IOptions<UplinkOptions> options, TimeProvider time, ILogger<EventSender> logger) : IUplinkWorker
{
    /// <summary>How long to wait for an ack before sending unacknowledged events again.</summary>
    internal static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    public async Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken)
    {
        var topic = UplinkTopics.Events(channel.GatewayId);
        var announced = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            await channel.WaitConnectedAsync(stoppingToken);
            var pending = store.PendingEvents(GatewayEventBatch.MaxEvents);

            // After every (re)connect one batch goes out even when empty: it tells the cloud the gateway is listening,
            // and the cloud sends its queued configs and firmware offers now. Messages published while the gateway had
            // no broker session (first start, or an expired one) would otherwise wait for the next re-send.
            var connection = channel.Connections;
            if (pending.Count == 0 && connection == announced)
            {
                await store.WaitForEventAsync(AckTimeout, stoppingToken);
                continue;
            }

            var (message, count) = EventBatchPacker.Pack(channel.GatewayId, pending, options.Value.MaxBatchBytes);
            if (count == 0 && pending.Count > 0)
            {
                await SetAsideAsync(pending[0]);
                continue;
            }

            try
            {
                await channel.PublishAsync(topic, message, UplinkPriority.Normal, stoppingToken);
                announced = connection;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.EventsPublishFailed(logger, count, ex.Message);
            }

            // Wake early when the ack (or a new event) arrives; otherwise re-send what is still pending.
            await store.WaitForEventAsync(AckTimeout, stoppingToken);
        }
    }

    private async Task SetAsideAsync(GatewayEvent tooLarge)
    {
        var bytes = EventBatchPacker.Pack(journal.GatewayId, [tooLarge], int.MaxValue).Message.Length;
        var reason = $"event {tooLarge.Id} ({tooLarge.Type}) needs {bytes} bytes, above Agent:Uplink:MaxBatchBytes ({options.Value.MaxBatchBytes})";
        var payload = JsonSerializer.SerializeToUtf8Bytes(tooLarge, GatewayEventsJsonContext.Default.GatewayEvent);
        journal.AddDeadLetter(new DeadLetter(time.GetUtcNow(), tooLarge.Serial, UplinkTopics.Events(journal.GatewayId), UplinkMessageTooLargeException.DeadLetterCode, reason, payload));
        await store.RemoveEventsAsync([tooLarge.Id]);
        Log.UplinkMessageTooLarge(logger, $"event {tooLarge.Id}", reason);
    }
}
