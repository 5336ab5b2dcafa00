using System.Collections.Concurrent;
using Edge.Agent.Broker.Listener;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Broker;

/// <summary>
/// Counts each device's refused publishes in a sliding window: past <see cref="BrokerOptions.MaxRefusals"/> within
/// <see cref="BrokerOptions.RefusalWindowSeconds"/>, its connection is closed (MQTT 5: DISCONNECT "message rate too
/// high"), counted and logged once. A QoS 0 publish has no PUBACK to slow its sender down, and every refusal costs a
/// dead letter; this is what stops one device from flooding them. Back-pressure (QuotaExceeded, a failed commit) is not
/// the device's fault and is not counted. The device may reconnect; it starts with an empty window.
/// </summary>
internal sealed class RefusalLimiter(IOptions<BrokerOptions> options, ListenerMetrics metrics, TimeProvider time, ILogger<RefusalLimiter> logger)
{
    private readonly int _max = options.Value.MaxRefusals;
    private readonly long _windowTicks = TimeSpan.FromSeconds(options.Value.RefusalWindowSeconds).Ticks;

    // Keyed by client id (the device serial once authenticated): at most one entry per registered device.
    private readonly ConcurrentDictionary<string, History> _clients = new(StringComparer.Ordinal);

    /// <summary>Counts a refusal; true when it takes the client past the limit, and its connection must be closed.</summary>
    public bool Refused(string clientId)
    {
        var history = _clients.GetOrAdd(clientId, static (_, max) => new History(max), _max);
        var now = time.GetUtcNow().UtcTicks;
        lock (history)
        {
            // The slot about to be overwritten holds the refusal _max refusals ago: within the window, this is one too many.
            var oldest = history.Stamps[history.Next];
            history.Stamps[history.Next] = now;
            history.Next = (history.Next + 1) % _max;
            if (oldest == 0 || now - oldest >= _windowTicks)
            {
                return false;
            }

            Array.Clear(history.Stamps);
            history.Next = 0;
            history.Disconnecting = true;
        }

        metrics.RecordClosed(ListenerMetrics.TooManyRefusals);
        Log.DeviceRefusalLimit(logger, clientId, _max + 1, options.Value.RefusalWindowSeconds);
        return true;
    }

    /// <summary>
    /// True once after <see cref="Refused"/> closed the client's connection: the listener then sends MQTT 5's "message
    /// rate too high" in place of MQTTnet's unspecified error.
    /// </summary>
    public bool TakeDisconnect(string clientId)
    {
        if (!_clients.TryGetValue(clientId, out var history))
        {
            return false;
        }

        lock (history)
        {
            var disconnecting = history.Disconnecting;
            history.Disconnecting = false;
            return disconnecting;
        }
    }

    private sealed class History(int max)
    {
        public long[] Stamps { get; } = new long[max];

        public int Next { get; set; }

        public bool Disconnecting { get; set; }
    }
}
