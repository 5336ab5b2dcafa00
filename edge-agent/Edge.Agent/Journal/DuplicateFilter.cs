namespace Edge.Agent.Journal;

/// <summary>
/// Recognises a device re-sending a reading it already had acknowledged-or-committed (MQTT QoS 1 is at-least-once:
/// a device whose PUBACKs were lost sends everything it had in flight again, oldest first, with DUP set). A reading is
/// the same when serial, device timestamp and payload bytes are the same; the timestamp alone is not enough (1-second
/// clocks). Keeps the last <c>perDevice</c> readings of each device, at least the broker's receive maximum (the most a
/// device may have in flight), so every re-send of a window is recognised whatever order the re-sends come in: a re-send
/// is never added again, so it cannot push a newer reading of the same window out.
/// Owned by the journal's single writer, so it needs no locks.
/// </summary>
internal sealed class DuplicateFilter(int perDevice = DuplicateFilter.DefaultPerDevice)
{
    /// <summary>The broker's default receive maximum (<c>Agent:Broker:ReceiveMaximum</c>).</summary>
    public const int DefaultPerDevice = 100;

    private readonly Dictionary<string, Recent> _recent = new(StringComparer.Ordinal);

    public int PerDevice { get; } = perDevice > 0 ? perDevice : throw new ArgumentOutOfRangeException(nameof(perDevice), perDevice, "must be at least 1");

    public bool Contains(string serial, long deviceTicks, ulong payloadHash) =>
        _recent.TryGetValue(serial, out var recent) && recent.Contains((deviceTicks, payloadHash));

    public void Add(string serial, long deviceTicks, ulong payloadHash)
    {
        if (!_recent.TryGetValue(serial, out var recent))
        {
            recent = new Recent(PerDevice);
            _recent.Add(serial, recent);
        }

        recent.Add((deviceTicks, payloadHash));
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

    // One device's last readings: a set to look up in O(1) and their order to forget the oldest. Grows as readings
    // come, so a device that sends little costs little.
    private sealed class Recent(int capacity)
    {
        private readonly HashSet<(long Ticks, ulong Hash)> _set = [];
        private readonly Queue<(long Ticks, ulong Hash)> _order = new();

        public bool Contains((long Ticks, ulong Hash) key) => _set.Contains(key);

        public void Add((long Ticks, ulong Hash) key)
        {
            if (!_set.Add(key))
            {
                return; // already remembered (the same reading journaled twice before this filter existed)
            }

            _order.Enqueue(key);
            if (_order.Count > capacity)
            {
                _set.Remove(_order.Dequeue());
            }
        }
    }
}
