using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Edge.Agent.Broker;

/// <summary>Which devices are connected right now.</summary>
internal sealed class ConnectedDevices : IDisposable
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _connected = new(StringComparer.Ordinal);

    public ConnectedDevices()
    {
        Meter.CreateObservableGauge("edge.broker.connected_devices", () => _connected.Count, description: "Devices connected to the agent's broker");
    }

    /// <summary>The broker's meter, for the agent's metrics collector.</summary>
    public Meter Meter { get; } = new("ClinicEdge.Agent.Broker");

    public int Count => _connected.Count;

    public bool IsConnected(string serial) => _connected.ContainsKey(serial);

    internal void Connected(string serial, DateTimeOffset at) => _connected[serial] = at;

    internal void Disconnected(string serial) => _connected.TryRemove(serial, out _);

    public void Dispose() => Meter.Dispose();
}
