using System.Collections.Concurrent;

namespace Edge.Agent.Journal;

/// <summary>
/// Many producers, one consumer, no lock on the hot path: producers enqueue and wake the consumer only when it
/// sleeps. (An unbounded Channel takes a lock on every write, which 100 publishing devices contend on.)
/// </summary>
internal sealed class WorkQueue<T> : IDisposable
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _sleeping;
    private volatile bool _completed;

    public bool TryAdd(T item)
    {
        if (_completed)
        {
            return false;
        }

        _items.Enqueue(item);
        WakeConsumer();
        return true;
    }

    public void Complete()
    {
        _completed = true;
        WakeConsumer();
    }

    public bool TryTake(out T item) => _items.TryDequeue(out item!);

    /// <summary>Nothing queued at this moment.</summary>
    public bool IsEmpty => _items.IsEmpty;

    /// <summary>Waits until there is an item; false once completed and empty.</summary>
    public async ValueTask<bool> WaitAsync()
    {
        while (true)
        {
            if (!_items.IsEmpty)
            {
                return true;
            }

            if (_completed)
            {
                return false;
            }

            Volatile.Write(ref _sleeping, 1);
            if (!_items.IsEmpty || _completed)
            {
                // Something arrived while we announced sleep. If a producer already took the flag, it released
                // (or is about to release) the semaphore once; consume that release so the count stays at zero.
                if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                {
                    await _wake.WaitAsync();
                }

                continue;
            }

            await _wake.WaitAsync();
        }
    }

    /// <summary>
    /// Waits until there is an item, the queue completes or <paramref name="timeout"/> passes on <paramref name="time"/>'s
    /// clock, whichever comes first; an item that arrives as the time passes is still reported as an item.
    /// </summary>
    public ValueTask<QueueWait> WaitAsync(TimeSpan timeout, TimeProvider time) =>
        _items.IsEmpty ? WaitTimedAsync(timeout, time) : new ValueTask<QueueWait>(QueueWait.Item); // no timer while busy

    private async ValueTask<QueueWait> WaitTimedAsync(TimeSpan timeout, TimeProvider time)
    {
        using var timer = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, time);
        while (true)
        {
            if (!_items.IsEmpty)
            {
                return QueueWait.Item;
            }

            if (_completed)
            {
                return QueueWait.Completed;
            }

            Volatile.Write(ref _sleeping, 1);
            if (!_items.IsEmpty || _completed)
            {
                if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                {
                    await _wake.WaitAsync();
                }

                continue;
            }

            try
            {
                await _wake.WaitAsync(timer.Token);
            }
            catch (OperationCanceledException)
            {
                // A producer that took the flag meanwhile released (or is about to release) once: consume it.
                if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                {
                    await _wake.WaitAsync();
                }

                return !_items.IsEmpty ? QueueWait.Item : _completed ? QueueWait.Completed : QueueWait.TimedOut;
            }
        }
    }

    public void Dispose() => _wake.Dispose();

    private void WakeConsumer()
    {
        if (Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            _wake.Release();
        }
    }
}

/// <summary>How a timed <see cref="WorkQueue{T}.WaitAsync(TimeSpan, TimeProvider)"/> ended.</summary>
internal enum QueueWait
{
    Item,
    Completed,
    TimedOut,
}
