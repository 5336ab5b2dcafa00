using Edge.Contracts.Uplink;
using Edge.Ingest.Broker;
using Edge.Ingest.Metrics;
using Edge.Storage.Downlink;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Ingest.Downlink;

/// <summary>
/// Sends queued desired configs and firmware offers to their gateways (<c>edge/v1/{gatewayId}/config</c> and
/// <c>…/firmware</c>) from the registry's outbox (<see cref="DownlinkOutbox"/>). The API only writes the database; this
/// loop, in every worker replica, does the sending, so a push is never lost between "stored" and "published".
/// </summary>
internal sealed class DownlinkDispatcher(
    DownlinkOutbox outbox,
    IOptions<IngestBrokerOptions> options,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<DownlinkDispatcher> logger) : BackgroundService
{
    /// <summary>How often the outbox is checked; a push reaches the broker within about this long.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clientId = (options.Value.ClientId ?? $"ingest-{Environment.MachineName}") + "-downlink";
        using var client = new MqttClientFactory().CreateMqttClient();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!client.IsConnected)
                {
                    await client.ConnectAsync(CloudBrokerClient.Options(options.Value, clientId), stoppingToken);
                }

                foreach (var message in await outbox.TakeDueAsync(100, stoppingToken))
                {
                    await SendAsync(client, message, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Broker or database away: nothing is lost (rows stay queued); try again after the interval.
                Log.DownlinkPassFailed(logger, ex.Message);
            }

            await Task.Delay(PollInterval, time, stoppingToken);
        }
    }

    private async Task SendAsync(IMqttClient client, DownlinkMessage message, CancellationToken stoppingToken)
    {
        var topic = message.IsFirmware ? UplinkTopics.Firmware(message.GatewayId) : UplinkTopics.Config(message.GatewayId);
        try
        {
            var result = await client.PublishAsync(
                new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(message.Payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                stoppingToken);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"the broker refused it: {result.ReasonCode} {result.ReasonString}");
            }

            metrics.DownlinkMessage(message.IsFirmware, WorkerMetrics.Sent);
            Log.DownlinkSent(logger, message.IsFirmware ? "firmware offer" : "config", message.Serial, message.GatewayId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.DownlinkMessage(message.IsFirmware, WorkerMetrics.Failed);
            Log.DownlinkSendFailed(logger, message.Serial, message.GatewayId, ex.Message);
            await outbox.RetrySoonAsync(message, stoppingToken);
            throw;
        }
    }
}
