using System.Text.Json;
using Edge.Agent.Uplink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Heartbeat;

/// <summary>
/// Publishes the gateway's health on <c>edge/v1/{gatewayId}/heartbeat</c> after every connect and then every
/// <see cref="HeartbeatOptions.IntervalSeconds"/> while the link is up, at the pacer's lowest priority. A heartbeat is
/// latest state: it is built when it is sent and never journaled or queued, so a gateway that was offline for a day
/// sends one when it is back, not one per missed interval.
/// </summary>
public sealed class HeartbeatSender(
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
            await channel.WaitConnectedAsync(stoppingToken).ConfigureAwait(false);

            // Due at the interval, or at once on a new connection: the cloud learns the gateway is back right away.
            var connection = channel.Connections;
            var wait = nextAt - time.GetUtcNow();
            if (connection == sentOnConnection && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait < OneSecond ? wait : OneSecond, time, stoppingToken).ConfigureAwait(false);
                continue;
            }

            var heartbeat = report.Build(channel.GatewayId);
            try
            {
                await channel.PublishAsync(topic, JsonSerializer.SerializeToUtf8Bytes(heartbeat, HeartbeatJsonContext.Default.GatewayHeartbeat),
                    UplinkPriority.Low, stoppingToken).ConfigureAwait(false);
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
}
