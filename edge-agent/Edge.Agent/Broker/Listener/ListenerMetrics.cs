using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Edge.Hosting.Metrics;

namespace Edge.Agent.Broker.Listener;

/// <summary>Sockets the device listeners closed before or instead of MQTT, by reason, and those waiting for CONNECT.</summary>
public sealed class ListenerMetrics : IDisposable
{
    public const string TooManyConnections = "too_many_connections";
    public const string TooManyPending = "too_many_pending";
    public const string TooManyFromAddress = "too_many_from_address";
    public const string PacketTooLarge = "packet_too_large";
    public const string NotConnect = "not_connect";
    public const string ConnectTimeout = "connect_timeout";
    public const string TlsFailed = "tls_failed";

    private static readonly string[] Reasons = [TooManyConnections, TooManyPending, TooManyFromAddress, PacketTooLarge, NotConnect, ConnectTimeout, TlsFailed];

    private readonly ConcurrentDictionary<string, long> _closed = new(StringComparer.Ordinal);

    public ListenerMetrics(Func<int> pending)
    {
        Meter.CreateObservableCounter("edge.broker.connections_closed", () => CountsByTag.Measure(Closed, Reasons, "reason"),
            description: "Device sockets the agent closed before or instead of MQTT (limits, oversized packets, no CONNECT in time), by reason");
        Meter.CreateObservableGauge("edge.broker.connections_pending", pending, description: "Device sockets open and waiting for their CONNECT");
    }

    public Meter Meter { get; } = new("ClinicEdge.Agent.Listener");

    public IReadOnlyDictionary<string, long> Closed => new Dictionary<string, long>(_closed, StringComparer.Ordinal);

    public void RecordClosed(string reason) => _closed.AddOrUpdate(reason, 1, (_, count) => count + 1);

    public void Dispose() => Meter.Dispose();
}
