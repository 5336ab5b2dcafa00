using System.Diagnostics;
using LiteDB;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>The writer: one task taking groups off the queue, committing them in one LiteDB transaction, syncing, completing; checkpoints between groups.</summary>
internal sealed partial class ReadingJournal
{
    // LiteDB copies its log into the data file (and fsyncs that file) inside whichever commit finds the log at 1,000
    // pages, and every reading waiting on that commit waits for the copy: it set the p99 at 10 devices (15-16 ms; 6.6-
    // 9.2 ms without checkpoints). The writer checkpoints instead, between commits and 4x less often: at
    // IdleCheckpointPages (32 MiB of log) when nothing is queued, at ForcedCheckpointPages (64 MiB) whatever is queued.
    // A longer log costs disk space and, after a crash only, a longer open (LiteDB reads the log's page headers).
    private const long IdleCheckpointPages = 4_000;
    private const long ForcedCheckpointPages = 8_000;

    private readonly WorkQueue<WriteOp> _ops = new();

    // Ends the writer's wait for the commit interval: released by an urgent append and by the close. A release the
    // writer did not need leaves a count behind, which only lets one later commit skip its wait. Never disposed: an
    // append racing the close may still release it, and a SemaphoreSlim without a wait handle holds nothing to free.
    private readonly SemaphoreSlim _hurry = new(0);
    private readonly TimeSpan _minCommitInterval;
    private long? _lastCommitStarted;

    /// <summary>The configured <see cref="JournalOptions.MinCommitIntervalMs"/> (zero when off).</summary>
    public TimeSpan MinCommitInterval => _minCommitInterval;

    // Commit, fdatasync, complete, in turn. Syncing on a second task while the next group committed (at most one or two
    // groups ahead) was measured against this: with the writer waiting for the sync, everything that arrives meanwhile
    // becomes one larger group, and a commit's fixed cost is most of the journal's CPU. At 100 devices: 15,231 against
    // 12,587 msgs/s and 79 against 97 us of agent CPU per message; at 10: 7,775 against 6,901 (docs/performance.md).
    private async Task RunWriterAsync()
    {
        var group = new List<WriteOp>(_options.MaxGroupCommit);
        while (!_faulted.Task.IsCompleted)
        {
            var wait = await WaitForWorkAsync();
            if (wait == QueueWait.Completed)
            {
                break;
            }

            if (wait == QueueWait.TimedOut)
            {
                ApplyPendingWhenIdle();
                continue;
            }

            if (_minCommitInterval > TimeSpan.Zero)
            {
                await WaitForCommitIntervalAsync();
            }

            while (group.Count < _options.MaxGroupCommit && _ops.TryTake(out var op))
            {
                group.Add(op);
            }

            _lastCommitStarted = _time.GetTimestamp();
            if (_wal is not null ? CommitGroupWriteAhead(group) : CommitGroup(group) && SyncGroup(group))
            {
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _committedOperations, group.Count);
                _groupSize.Record(group.Count);
                foreach (var op in group)
                {
                    op.Complete();
                }
            }

            group.Clear();
            if (_faulted.Task.IsCompleted)
            {
                break; // no checkpoint either: see SyncGroup
            }

            if (_wal is null)
            {
                CheckpointIfDue();
            }
            else
            {
                RecycleIfDue();
            }
        }

        // Anything queued after the close began (or after a failed sync) was never made durable: its waiter must not hang.
        var error = _faulted.Task.Exception?.InnerException;
        while (_ops.TryTake(out var late))
        {
            late.Fail(error ?? new InvalidOperationException("The journal closed before this operation was committed."));
        }
    }

    /// <summary>
    /// Waits for the next operation. In write-ahead mode, readings waiting in memory (durable in the log) are applied to
    /// LiteDB when no group brings them there within <see cref="ApplyInterval"/>: when traffic stops, nothing waits in
    /// memory longer than that, and a restart replays less.
    /// </summary>
    private ValueTask<QueueWait> WaitForWorkAsync()
    {
        if (_wal is not null && _pending[0].Count + _pending[1].Count > 0)
        {
            return _ops.WaitAsync(ApplyInterval - _time.GetElapsedTime(_pendingSince), _time);
        }

        // Under load the queue is rarely empty: no state machine for a wait that is already over.
        var wait = _ops.WaitAsync();
        return wait.IsCompletedSuccessfully ? new ValueTask<QueueWait>(Outcome(wait.Result)) : WaitUntimedAsync(wait);

        static QueueWait Outcome(bool item) => item ? QueueWait.Item : QueueWait.Completed;

        static async ValueTask<QueueWait> WaitUntimedAsync(ValueTask<bool> wait) => Outcome(await wait);
    }

    /// <summary>
    /// Waits until <see cref="JournalOptions.MinCommitIntervalMs"/> has passed since the last commit started, or an
    /// urgent reading or the close arrives. Under load a commit and its fdatasync take longer than the interval, so
    /// nothing waits; with devices reporting one at a time, what arrives meanwhile becomes one commit.
    /// </summary>
    private async ValueTask WaitForCommitIntervalAsync()
    {
        var wait = _lastCommitStarted is { } started ? _minCommitInterval - _time.GetElapsedTime(started) : TimeSpan.Zero;
        var closing = Volatile.Read(ref _disposed) != 0; // every group left at the close is committed without waiting
        if (wait > TimeSpan.Zero && !closing)
        {
            using var interval = new CancellationTokenSource(wait, _time);
            try
            {
                await _hurry.WaitAsync(interval.Token);
            }
            catch (OperationCanceledException)
            {
                // The interval passed.
            }
        }

        // Releases for urgent readings queued by now are answered by the group taken next. (One left behind a full
        // group, past MaxGroupCommit, waits one more interval at most.)
        while (_hurry.Wait(0))
        {
        }
    }

    // After a failed fdatasync nothing more is committed: the kernel may have dropped the dirty pages and a later
    // sync can succeed without them, so the host stops and the service restarts from what is on disk.
    private bool SyncGroup(List<WriteOp> group) => SyncStep(group, static journal => journal.Sync());

    /// <summary>
    /// Runs the step that makes a group durable (an fdatasync of LiteDB's log, an append to the write-ahead log, or
    /// LiteDB's sync before the write-ahead log starts over) and counts its time as the group's sync time. A failure
    /// faults the journal (see <see cref="SyncGroup"/>) and fails the group; true when the group may complete.
    /// </summary>
    private bool SyncStep(List<WriteOp> group, Action<ReadingJournal> step)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            step(this);
            var elapsed = Stopwatch.GetElapsedTime(started);
            Interlocked.Add(ref _syncTicks, elapsed.Ticks);
            _syncDuration.Record(elapsed.TotalMilliseconds);
            return true;
        }
        catch (Exception ex)
        {
            Fault(group, ex);
            return false;
        }
    }

    private void Fault(List<WriteOp> group, Exception ex)
    {
        Log.JournalSyncFailed(_logger, ex);
        _faulted.TrySetException(ex);
        _ops.Complete();
        foreach (var op in group)
        {
            op.Fail(ex);
        }
    }

    /// <summary>
    /// Copies LiteDB's log into the data file between group commits, not inside one: when the log is long and nothing
    /// is waiting, or when it is very long. A checkpoint that fails is logged and tried again after the next commit;
    /// the log keeps every committed change until one succeeds.
    /// </summary>
    private void CheckpointIfDue()
    {
        var logPages = _logStream.Length / DataFileStream.PageBytes;
        if (logPages < IdleCheckpointPages || (logPages < ForcedCheckpointPages && !_ops.IsEmpty))
        {
            return;
        }

        Checkpoint(logPages);
    }

    private void Checkpoint(long logPages)
    {
        try
        {
            lock (_dbGate)
            {
                _db.Checkpoint();
            }
        }
        catch (Exception ex) when (ex is LiteException or IOException)
        {
            Log.JournalCheckpointFailed(_logger, logPages, ex);
        }
    }

    // Everything between BeginTrans and Commit runs synchronously on one thread: LiteDB binds a transaction to its thread.
    private bool CommitGroup(List<WriteOp> group)
    {
        lock (_dbGate)
        {
            return CommitGroupLocked(group);
        }
    }

    private bool CommitGroupLocked(List<WriteOp> group)
    {
        var before = _state.Clone();
        var accepted = new List<(string Serial, long Ticks, ulong Hash)>();
        try
        {
            _db.BeginTrans();
            StagePending();
            foreach (var op in group)
            {
                Apply(op, accepted, deferred: false);
            }

            _state.CommitNumber++;

            // A commit of readings only carries the counters in its last segment instead of rewriting the meta
            // document: one 8 KiB page less in every commit's log write (a fifth of it) and in every checkpoint.
            // Anything else (acks, sheds without a new segment, state changes) writes the meta document as before.
            var countersCarried = WriteStagedSegments(group.TrueForAll(op => op is AppendOp) ? _state.ToCounters() : null);
            if (!countersCarried)
            {
                _meta.Upsert(_state.ToDocument(MetaId, GatewayId));
            }

            _db.Commit();
        }
        catch (Exception ex)
        {
            TryRollback();
            ClearStaged();
            _state = before;
            Log.JournalCommitFailed(_logger, group.Count, ex);
            foreach (var op in group)
            {
                op.Fail(ex);
            }

            return false;
        }

        ClearPending();
        Accepted(accepted);
        return true;
    }

    /// <summary>
    /// Applies one operation of a group: inside the group's LiteDB transaction, or with <paramref name="deferred"/> (write-
    /// ahead mode) to what waits in memory, which only readings, acks of readings in memory and published marks do
    /// (<see cref="PathFor"/> sends everything else to LiteDB).
    /// </summary>
    private void Apply(WriteOp op, List<(string Serial, long Ticks, ulong Hash)> accepted, bool deferred)
    {
        switch (op)
        {
            case AppendOp append:
                append.Result = Append(append, append.Entry, accepted, deferred);
                break;
            case DeleteRangeOp delete:
                delete.Result = deferred ? DeletePending(delete.Lane, delete.First, delete.Last) : DeleteRange(delete.Lane, delete.First, delete.Last);
                break;
            case DeadLetterOp letter:
                InsertDeadLetter(letter);
                break;
            case StateOp state:
                state.Result = state.Change(_db);
                break;
            case ReportOp report:
                report.Result = ApplyReport(report);
                break;
            case PublishedOp published:
                ApplyPublished(published);
                break;
        }
    }

    // After a group's changes are applied: its readings are recognised when re-sent, and readers see its counters.
    private void Accepted(List<(string Serial, long Ticks, ulong Hash)> accepted)
    {
        foreach (var (serial, ticks, hash) in accepted)
        {
            _duplicates.Add(serial, ticks, hash);
        }

        _snapshot = _state.ToSnapshot(_options.QuotaBytes);
    }

    private void Sync()
    {
        if (_options.SyncOnCommit)
        {
            _dataSync(_logStream.SafeFileHandle);
        }
    }

    private void TryRollback()
    {
        try
        {
            _db.Rollback();
        }
        catch (LiteException)
        {
            // The transaction is already gone; nothing to undo.
        }
    }
}
