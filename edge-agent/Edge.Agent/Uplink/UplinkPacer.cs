namespace Edge.Agent.Uplink;

/// <summary>
/// Keeps every publish on the uplink connection (telemetry batches, events, report messages) within the broker's
/// per-connection limits: in any window of one second, at most <see cref="UplinkOptions.PublishesPerSecond"/> messages
/// and <see cref="UplinkOptions.BytesPerSecond"/> bytes. A sliding window of the last second's publishes, not a token
/// bucket: a full bucket lets a burst of one second's budget through on top of the refill, twice the quota in the worst
/// second, and AWS IoT Core throttles by the second. Urgent publishes waiting for room go before any other, and low ones (the heartbeat) after every other.
/// </summary>
internal sealed class UplinkPacer
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly int _publishesPerSecond;
    private readonly long _bytesPerSecond;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Queue<(long At, int Bytes)> _sent = new();
    private long _bytesInWindow;
    private int _urgentWaiting;
    private int _normalWaiting;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public UplinkPacer(int publishesPerSecond, long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(publishesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        _publishesPerSecond = publishesPerSecond;
        _bytesPerSecond = bytesPerSecond;
        _time = time;
    }

    /// <summary>
    /// Waits until a publish of <paramref name="bytes"/> fits in the last second's budget, then counts it. A message
    /// larger than a whole second's bytes (the start-up checks keep the agent's own messages under it) waits for an
    /// empty window and goes alone.
    /// </summary>
    public async Task TakeAsync(int bytes, UplinkPriority priority, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Waiting(priority, +1);
        }

        try
        {
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    changed = _changed.Task;
                }

                if (TryTake(bytes, priority, out var wait))
                {
                    return;
                }

                // Room comes back when the oldest publish leaves the window; an urgent publish taking the room first
                // wakes the others to look again.
                await Task.WhenAny(Task.Delay(wait, _time, cancellationToken), changed);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            lock (_gate)
            {
                Waiting(priority, -1);
                Signal();
            }
        }
    }

    /// <summary>
    /// Counts a publish of <paramref name="bytes"/> now if it fits the last second's budget and no publish of a higher
    /// priority is waiting; otherwise says how long until the oldest publish leaves the window.
    /// </summary>
    public bool TryTake(int bytes, UplinkPriority priority, out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            Expire(now);
            if (NoneWaitingBefore(priority) && Fits(bytes))
            {
                _sent.Enqueue((now, bytes));
                _bytesInWindow += bytes;
                Signal();
                retryAfter = TimeSpan.Zero;
                return true;
            }

            var untilRoom = _sent.Count == 0 ? Window : Window - _time.GetElapsedTime(_sent.Peek().At, now);
            retryAfter = untilRoom > TimeSpan.Zero ? untilRoom : TimeSpan.FromMilliseconds(1);
            return false;
        }
    }

    private bool NoneWaitingBefore(UplinkPriority priority) => priority switch
    {
        UplinkPriority.Urgent => true,
        UplinkPriority.Normal => _urgentWaiting == 0,
        _ => _urgentWaiting == 0 && _normalWaiting == 0,
    };

    private void Waiting(UplinkPriority priority, int change)
    {
        if (priority == UplinkPriority.Urgent)
        {
            _urgentWaiting += change;
        }
        else if (priority == UplinkPriority.Normal)
        {
            _normalWaiting += change;
        }
    }

    private bool Fits(int bytes) =>
        _sent.Count == 0 || (_sent.Count < _publishesPerSecond && _bytesInWindow + bytes <= _bytesPerSecond);

    private void Expire(long now)
    {
        while (_sent.Count > 0 && _time.GetElapsedTime(_sent.Peek().At, now) >= Window)
        {
            _bytesInWindow -= _sent.Dequeue().Bytes;
        }
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
