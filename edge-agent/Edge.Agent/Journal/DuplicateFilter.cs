namespace Edge.Agent.Journal;

/// <summary>
/// Recognises a device re-sending a reading it already had acknowledged-or-committed (MQTT QoS 1 is at-least-once:
/// a device whose PUBACK was lost in a crash sends the same reading again). A reading is the same when serial,
/// device timestamp and payload bytes are the same; the timestamp alone is not enough (1-second clocks).
/// Owned by the journal's single writer, so it needs no locks.
/// </summary>
internal sealed class DuplicateFilter(int perDevice = 16)
{
    private readonly Dictionary<string, Ring> _recent = new(StringComparer.Ordinal);

    public bool Contains(string serial, long deviceTicks, ulong payloadHash) =>
        _recent.TryGetValue(serial, out var ring) && ring.Contains(deviceTicks, payloadHash);

    public void Add(string serial, long deviceTicks, ulong payloadHash)
    {
        if (!_recent.TryGetValue(serial, out var ring))
        {
            ring = new Ring(perDevice);
            _recent.Add(serial, ring);
        }

        ring.Add(deviceTicks, payloadHash);
    }

    /// <summary>FNV-1a: cheap, stable across restarts (the filter is rebuilt from journaled payloads).</summary>
    public static ulong Hash(ReadOnlySpan<byte> payload)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in payload)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private sealed class Ring(int capacity)
    {
        private readonly long[] _ticks = new long[capacity];
        private readonly ulong[] _hashes = new ulong[capacity];
        private int _count;
        private int _next;

        public bool Contains(long ticks, ulong hash)
        {
            for (var i = 0; i < _count; i++)
            {
                if (_ticks[i] == ticks && _hashes[i] == hash)
                {
                    return true;
                }
            }

            return false;
        }

        public void Add(long ticks, ulong hash)
        {
            _ticks[_next] = ticks;
            _hashes[_next] = hash;
            _next = (_next + 1) % _ticks.Length;
            _count = Math.Min(_count + 1, _ticks.Length);
        }
    }
}
