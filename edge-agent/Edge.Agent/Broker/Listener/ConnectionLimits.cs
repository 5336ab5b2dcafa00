using System.Net;

namespace Edge.Agent.Broker.Listener;

/// <summary>
/// The device listeners' connection counts: in all, not yet past CONNECT, and per source address. A socket is admitted
/// only below all three, so neither unauthenticated sockets nor one machine on the clinic LAN can use up the gateway.
/// </summary>
internal sealed class ConnectionLimits(int maxConnections, int maxPending, int maxPerAddress)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _total;
    private int _pending;

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending;
            }
        }
    }

    /// <summary>Counts a new socket in, or says which limit refuses it (a <see cref="ListenerMetrics"/> reason).</summary>
    public string? TryAdmit(IPAddress address)
    {
        lock (_gate)
        {
            if (_total >= maxConnections)
            {
                return ListenerMetrics.TooManyConnections;
            }
            if (_pending >= maxPending)
            {
                return ListenerMetrics.TooManyPending;
            }
            var fromAddress = _perAddress.GetValueOrDefault(address);
            if (fromAddress >= maxPerAddress)
            {
                return ListenerMetrics.TooManyFromAddress;
            }

            _total++;
            _pending++;
            _perAddress[address] = fromAddress + 1;
            return null;
        }
    }

    /// <summary>The socket's CONNECT arrived: it no longer counts as pending.</summary>
    public void ConnectArrived()
    {
        lock (_gate)
        {
            _pending--;
        }
    }

    /// <summary>The socket closed; <paramref name="wasPending"/> when its CONNECT never arrived.</summary>
    public void Closed(IPAddress address, bool wasPending)
    {
        lock (_gate)
        {
            _total--;
            if (wasPending)
            {
                _pending--;
            }
            var left = _perAddress.GetValueOrDefault(address) - 1;
            if (left <= 0)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address] = left;
            }
        }
    }
}
