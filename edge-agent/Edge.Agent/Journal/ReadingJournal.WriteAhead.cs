using Edge.Agent.Journal.WriteAhead;

namespace Edge.Agent.Journal;

/// <summary>
/// The write-ahead mode (<see cref="JournalOptions.WriteAheadLog"/>): a group commit of readings appends records to the
/// write-ahead log and fdatasyncs it, about one 4 KiB block, and completes; the readings wait in memory (served to
/// readers from there) and are applied to LiteDB in one transaction per <see cref="ApplyInterval"/> or
/// <see cref="ApplyEveryEntries"/>, without LiteDB's own sync. LiteDB's log is synced, and the write-ahead log started
/// over, only when the log fills, when a checkpoint is due, or for a change only LiteDB can carry (device state,
/// reports, dead letters). When traffic stops, the writer applies what waits once it is ApplyInterval old. At open, LiteDB's log is cut back to the synced length the log's generation began at, and the records
/// are applied again in order: the state is then exactly what it was when the last record was acknowledged.
/// </summary>
internal sealed partial class ReadingJournal
{
    /// <summary>Readings applied to LiteDB at least this often (by the next group commit, or by the writer when none comes).</summary>
    internal static readonly TimeSpan ApplyInterval = TimeSpan.FromSeconds(1);

    /// <summary>Readings applied to LiteDB once this many wait in memory.</summary>
    internal const int ApplyEveryEntries = 2000;

    private readonly List<SegmentEntry>[] _pending = [[], []];
    private readonly List<WalRecord> _records = [];
    private WriteAheadLog? _wal;
    private long _appliedThrough;
    private long _pendingSince;
    private long _walFull;
    private long _idleApplies;

    /// <summary>Times the write-ahead log filled and a commit waited for LiteDB's sync (0 when it is not used).</summary>
    public long WriteAheadLogFull => Interlocked.Read(ref _walFull);

    /// <summary>Times readings waiting in memory were applied to LiteDB because no group came within <see cref="ApplyInterval"/>.</summary>
    internal long IdleApplies => Interlocked.Read(ref _idleApplies);

    /// <summary>The write-ahead log's file, or null when the journal does not use one.</summary>
    public string? WriteAheadLogPath => _wal?.Path;

    /// <summary>
    /// One group commit in write-ahead mode; true when its operations may complete. Readings, acks of readings still in
    /// memory and published marks stay in memory; anything else, or readings waiting past the apply interval, go to
    /// LiteDB first (one transaction, no sync). Then the group's records are appended to the log and synced.
    /// </summary>
    private bool CommitGroupWriteAhead(List<WriteOp> group)
    {
        var path = PathFor(group);
        if (path == WritePath.Deferred)
        {
            lock (_dbGate)
            {
                CommitDeferredLocked(group);
            }
        }
        else
        {
            if (!CommitGroup(group))
            {
                return false;
            }

            if (path == WritePath.Durable)
            {
                return MakeDurable(group);
            }
        }

        _records.Clear();
        long bytes = 0;
        foreach (var op in group)
        {
            WalRecord? record = op switch
            {
                AppendOp { Result.Outcome: AppendOutcome.Committed, Staged: { } entry } append => WalRecord.Appended(append.Entry.Lane, entry),
                DeleteRangeOp { Result: > 0 } delete => WalRecord.Deleted(delete.Lane, delete.First, delete.Last),
                PublishedOp published => WalRecord.MarkedPublished(published.Lane, published.LastSequence),
                _ => null,
            };
            if (record is { } r)
            {
                _records.Add(r);
                bytes += WriteAheadLog.SizeOf(r);
            }
        }

        if (_records.Count == 0)
        {
            return true; // duplicates, refusals, dead letters: nothing a device waits on needs the disk
        }

        if (!_wal!.Fits(bytes))
        {
            // Never overwrite what LiteDB does not hold durably: make it hold everything, then start over.
            if (Interlocked.Increment(ref _walFull) == 1)
            {
                Log.JournalWalFull(_logger, _wal.Path);
            }

            return MakeDurable(group);
        }

        return SyncStep(group, static journal => journal._wal!.Append(journal._records));
    }

    private enum WritePath
    {
        /// <summary>In memory and in the write-ahead log.</summary>
        Deferred,

        /// <summary>LiteDB (no sync) and the write-ahead log.</summary>
        Applied,

        /// <summary>LiteDB, synced, and the write-ahead log started over.</summary>
        Durable,
    }

    private WritePath PathFor(List<WriteOp> group)
    {
        var deferred = _pending[0].Count + _pending[1].Count == 0 || _time.GetElapsedTime(_pendingSince) < ApplyInterval;
        long bytes = 0;
        var entries = _pending[0].Count + _pending[1].Count;
        foreach (var op in group)
        {
            switch (op)
            {
                case AppendOp append:
                    bytes += EntrySize(append.Entry.Serial, append.Entry.Payload.Length);
                    entries++;
                    break;
                case PublishedOp:
                    break;
                case DeleteRangeOp delete when delete.First > _appliedThrough:
                    break;
                case StateOp or ReportOp:
                    return WritePath.Durable; // device state and reports promise durability that only LiteDB carries
                case DeadLetterOp:
                    // Listed and counted once committed, so synced in LiteDB like the rest of the journal path: a letter
                    // written without a sync could be listed and then lost to a power cut. They are rare (a device past
                    // Agent:Broker:MaxRefusals is disconnected), so the extra sync costs little.
                    return WritePath.Durable;
                default:
                    deferred = false;
                    break;
            }
        }

        // Shedding takes readings out of LiteDB: a group that would go over the quota is applied there.
        return deferred && entries <= ApplyEveryEntries && _state.UsedBytes + bytes <= _options.QuotaBytes
            ? WritePath.Deferred
            : WritePath.Applied;
    }

    private void CommitDeferredLocked(List<WriteOp> group)
    {
        var accepted = new List<(string Serial, long Ticks, ulong Hash)>();
        foreach (var op in group)
        {
            Apply(op, accepted, deferred: true);
        }

        Accepted(accepted);
    }

    private void Defer(Lane lane, SegmentEntry entry)
    {
        if (_pending[0].Count + _pending[1].Count == 0)
        {
            _pendingSince = _time.GetTimestamp();
        }

        _pending[(int)lane].Add(entry);
    }

    private int DeletePending(Lane lane, long first, long last)
    {
        var pending = _pending[(int)lane];
        var removed = pending.RemoveAll(entry =>
        {
            if (entry.Sequence < first || entry.Sequence > last)
            {
                return false;
            }

            Account(lane, -EntrySize(entry), shedReason: null);
            return true;
        });
        return removed;
    }

    // Inside CommitGroupLocked's transaction: what waits in memory goes in first, in sequence order.
    private void StagePending()
    {
        foreach (var lane in Lanes.All)
        {
            foreach (var entry in _pending[(int)lane])
            {
                Stage(lane, entry, EntrySize(entry));
            }
        }
    }

    // After CommitGroupLocked's commit: LiteDB holds everything acknowledged.
    private void ClearPending()
    {
        _pending[0].Clear();
        _pending[1].Clear();
        _appliedThrough = _state.LastSequence;
    }

    /// <summary>
    /// Applies what waits in memory, syncs LiteDB's log (checkpointing it into the data file when it is long), then
    /// starts the write-ahead log over with LiteDB's log length as its base. True when the group may complete.
    /// </summary>
    private bool MakeDurable(List<WriteOp> group)
    {
        if (_pending[0].Count + _pending[1].Count > 0 && !CommitGroup([]))
        {
            foreach (var op in group)
            {
                op.Fail(new IOException("The journal could not apply its write-ahead readings to LiteDB."));
            }

            return false;
        }

        return SyncStep(group, static journal =>
        {
            journal.Sync();
            if (journal._logStream.Length / DataFileStream.PageBytes is var logPages && logPages >= IdleCheckpointPages)
            {
                journal.Checkpoint(logPages);
            }

            journal._wal!.Recycle(journal._logStream.Length);
        });
    }

    /// <summary>Between group commits: a long LiteDB log is checkpointed (and the write-ahead log started over with it).</summary>
    private void RecycleIfDue()
    {
        var logPages = _logStream.Length / DataFileStream.PageBytes;
        if (logPages < IdleCheckpointPages || (logPages < ForcedCheckpointPages && !_ops.IsEmpty))
        {
            return;
        }

        MakeDurable([]);
    }

    /// <summary>
    /// No group came within <see cref="ApplyInterval"/> of the oldest reading waiting in memory: they are applied to
    /// LiteDB now (no sync: they stay in the write-ahead log until LiteDB's next sync). A failure is logged by the commit
    /// and tried again an interval later; the readings stay in memory and in the log meanwhile.
    /// </summary>
    private void ApplyPendingWhenIdle()
    {
        if (_pending[0].Count + _pending[1].Count == 0)
        {
            return;
        }

        if (!CommitGroup([]))
        {
            _pendingSince = _time.GetTimestamp();
            return;
        }

        Interlocked.Increment(ref _idleApplies);
        RecycleIfDue();
    }

    private bool ApplyPendingAtClose()
    {
        if (_pending[0].Count + _pending[1].Count == 0)
        {
            return true;
        }

        // The records stay in the write-ahead log if this fails: the next open applies them.
        return CommitGroupLocked([]);
    }
}
