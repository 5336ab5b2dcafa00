using System.Text.Json;
using Edge.Agent.Uplink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Heartbeat;

/// <summary>
/// Publishes the gateway's health on <c>edge/v1/{gatewayId}/heartbeat</c> after every connect and then every
/// <see cref="HeartbeatOptions.IntervalSeconds"/> while the link is up, at the pacer's lowest priority (normal after
/// <see cref="LowPriorityPatience"/>, so a backlog drain cannot starve it). A heartbeat is
/// latest state: it is built when it is sent and never journaled or queued, so a gateway that was offline for a day
/// sends one when it is back, not one per missed interval.
/// </summary>
internal sealed class HeartbeatSender(
    HeartbeatReport report,
    UplinkState uplink,
    IOptions<HeartbeatOptions> options,
    TimeProvider time,
    ILogger<HeartbeatSender> logger) : IUplinkWorker
{
    public async Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.IntervalSeconds);
        var topic = UplinkTopics.Heartbeat(channel.GatewayId);
        Log.HeartbeatStarted(logger, options.Value.IntervalSeconds, topic);
        var sentOnConnection = 0L;
        var nextAt = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            await channel.WaitConnectedAsync(stoppingToken);

            // Due at the interval, or at once on a new connection: the cloud learns the gateway is back right away.
            var connection = channel.Connections;
            var wait = nextAt - time.GetUtcNow();
            if (connection == sentOnConnection && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait < OneSecond ? wait : OneSecond, time, stoppingToken);
                continue;
            }

            var heartbeat = report.Build(channel.GatewayId);
            var payload = JsonSerializer.SerializeToUtf8Bytes(heartbeat, HeartbeatJsonContext.Default.GatewayHeartbeat);
            try
            {
                await PublishAsync(channel, topic, payload, stoppingToken);
                uplink.RecordHeartbeat(heartbeat.At);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.HeartbeatFailed(logger, ex.Message, options.Value.IntervalSeconds);
            }

            // Sent or not, the next one is an interval away (or the next connect): a missed heartbeat is not made up.
            sentOnConnection = connection;
            nextAt = time.GetUtcNow() + interval;
        }
    }

    // Checks for a new connection at least this often while waiting out the interval.
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>How long the heartbeat yields to other publishes before it queues with them (a backlog drain keeps the budget busy for minutes).</summary>
    internal static readonly TimeSpan LowPriorityPatience = TimeSpan.FromSeconds(10);

    // Low priority first; if the budget stays busy (catching up after an outage), normal priority, so that a gateway
    // draining its backlog does not look silent to the cloud.
    private async Task PublishAsync(IUplinkChannel channel, string topic, byte[] payload, CancellationToken stoppingToken)
    {
        using var patience = new CancellationTokenSource(LowPriorityPatience, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, patience.Token);
        try
        {
            await channel.PublishAsync(topic, payload, UplinkPriority.Low, either.Token);
        }
        catch (OperationCanceledException) when (patience.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            await channel.PublishAsync(topic, payload, UplinkPriority.Normal, stoppingToken);
        }
    }
}
