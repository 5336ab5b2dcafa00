using System.Collections.Concurrent;

namespace Edge.Agent.Broker;

/// <summary>Which devices are connected right now.</summary>
public sealed class ConnectedDevices
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _connected = new(StringComparer.Ordinal);

    public int Count => _connected.Count;

    public bool IsConnected(string serial) => _connected.ContainsKey(serial);

    internal void Connected(string serial, DateTimeOffset at) => _connected[serial] = at;

    internal void Disconnected(string serial) => _connected.TryRemove(serial, out _);
}
