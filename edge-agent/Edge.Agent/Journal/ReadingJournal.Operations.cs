using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>The write surface: each public write queues an operation for the writer and completes when its group is durable.</summary>
internal sealed partial class ReadingJournal
{
    /// <summary>Journals a reading and completes once it is committed and synced (or refused).</summary>
    public ValueTask<AppendResult> AppendAsync(NewEntry entry, CancellationToken cancellationToken = default)
    {
        var op = new AppendOp(entry);
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        if (entry.Lane == Lane.Urgent && _minCommitInterval > TimeSpan.Zero)
        {
            _hurry.Release(); // an alarm is committed now, not at the end of the commit interval
        }

        // Not cancellable on purpose: once queued the reading is committed anyway; a caller that stops waiting
        // (its device disconnected) simply does not send the PUBACK, and the device's re-send is a duplicate.
        _ = cancellationToken;
        return new ValueTask<AppendResult>(op.Completion.Task);
    }

    /// <summary>Removes a lane's entries with sequence numbers in [first, last]; returns how many were removed.</summary>
    public Task<int> DeleteRangeAsync(Lane lane, long first, long last)
    {
        var op = new DeleteRangeOp(lane, first, last);
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        return op.Completion.Task;
    }

    /// <summary>
    /// Changes the agent's small device-state collections (desired configs, firmware offers, the event outbox) inside
    /// the next group commit: the same transaction and the same disk sync as readings, so the state is durable when
    /// the task completes. <paramref name="change"/> runs on the writer thread; it must not block, and it must not
    /// throw (a throw rolls back the whole group, readings included, which are then refused and re-sent by devices).
    /// It sees only the device-state collections (<see cref="StateDocuments"/>), never the readings or the database.
    /// </summary>
    public Task<T> CommitStateAsync<T>(Func<StateDocuments, T> change)
    {
        var op = new StateOp(db => change(new StateDocuments(db)));
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        return Typed(op.Completion.Task);

        static async Task<T> Typed(Task<object?> result) => (T)(await result)!;
    }

    /// <summary>Reads the device-state collections consistently with the writer (never inside an uncommitted group).</summary>
    public T ReadState<T>(Func<StateDocuments, T> read)
    {
        lock (_dbGate)
        {
            return read(new StateDocuments(_db));
        }
    }

    private abstract class WriteOp
    {
        public abstract void Complete();

        public abstract void Fail(Exception error);
    }

    private sealed class AppendOp(NewEntry entry) : WriteOp
    {
        public NewEntry Entry { get; } = entry;

        public AppendResult Result { get; set; }

        /// <summary>The entry as journaled (with its sequence and received time), once committed.</summary>
        public SegmentEntry? Staged { get; set; }

        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete() => Completion.TrySetResult(Result);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }

    private sealed class DeleteRangeOp(Lane lane, long first, long last) : WriteOp
    {
        public Lane Lane { get; } = lane;

        public long First { get; } = first;

        public long Last { get; } = last;

        public int Result { get; set; }

        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete() => Completion.TrySetResult(Result);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }

    private sealed class StateOp(Func<LiteDatabase, object?> change) : WriteOp
    {
        public Func<LiteDatabase, object?> Change { get; } = change;

        public object? Result { get; set; }

        public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete() => Completion.TrySetResult(Result);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
