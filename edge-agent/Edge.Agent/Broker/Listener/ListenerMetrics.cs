using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Edge.Hosting.Metrics;

namespace Edge.Agent.Broker.Listener;

/// <summary>
/// Sockets the device listeners closed before or instead of MQTT, or because a device broke a per-connection bound (topic
/// aliases, unread answers, refused publishes), by reason; and the sockets waiting for CONNECT.
/// </summary>
internal sealed class ListenerMetrics : IDisposable
{
    public const string TooManyConnections = "too_many_connections";
    public const string TooManyPending = "too_many_pending";
    public const string TooManyFromAddress = "too_many_from_address";
    public const string PacketTooLarge = "packet_too_large";
    public const string NotConnect = "not_connect";
    public const string ConnectTimeout = "connect_timeout";
    public const string TlsFailed = "tls_failed";
    public const string TopicAlias = "topic_alias";
    public const string NotReading = "not_reading";
    public const string TooManyRefusals = "too_many_refusals";

    private static readonly string[] Reasons = [TooManyConnections, TooManyPending, TooManyFromAddress, PacketTooLarge, NotConnect, ConnectTimeout, TlsFailed, TopicAlias, NotReading, TooManyRefusals];

    private readonly ConcurrentDictionary<string, long> _closed = new(StringComparer.Ordinal);

    public ListenerMetrics(Func<int> pending)
    {
        Meter.CreateObservableCounter("edge.broker.connections_closed", () => CountsByTag.Measure(Closed, Reasons, "reason"),
            description: "Device sockets the agent closed (limits, oversized packets, no CONNECT in time, topic aliases, unread answers, refused publishes), by reason");
        Meter.CreateObservableGauge("edge.broker.connections_pending", pending, description: "Device sockets open and waiting for their CONNECT");
    }

    public Meter Meter { get; } = new("ClinicEdge.Agent.Listener");

    public IReadOnlyDictionary<string, long> Closed => new Dictionary<string, long>(_closed, StringComparer.Ordinal);

    public void RecordClosed(string reason) => _closed.AddOrUpdate(reason, 1, (_, count) => count + 1);

    public void Dispose() => Meter.Dispose();
}
