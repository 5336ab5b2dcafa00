using Edge.Agent.Journal.WriteAhead;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>
/// The write-ahead mode (<see cref="JournalOptions.WriteAheadLog"/>): a group commit of readings appends records to the
/// write-ahead log and fdatasyncs it, about one 4 KiB block, and completes; the readings wait in memory (served to
/// readers from there) and are applied to LiteDB in one transaction per <see cref="ApplyInterval"/> or
/// <see cref="ApplyEveryEntries"/>, without LiteDB's own sync. LiteDB's log is synced, and the write-ahead log started
/// over, only when the log fills, when a checkpoint is due, or for a change only LiteDB can carry (device state,
/// reports). At open, LiteDB's log is cut back to the synced length the log's generation began at, and the records
/// are applied again in order: the state is then exactly what it was when the last record was acknowledged.
/// </summary>
public sealed partial class ReadingJournal
{
    /// <summary>Readings applied to LiteDB at least this often (with a group commit arriving after it).</summary>
    internal static readonly TimeSpan ApplyInterval = TimeSpan.FromSeconds(1);

    /// <summary>Readings applied to LiteDB once this many wait in memory.</summary>
    internal const int ApplyEveryEntries = 2000;

    private readonly List<SegmentEntry>[] _pending = [[], []];
    private readonly List<WalRecord> _records = [];
    private WriteAheadLog? _wal;
    private long _appliedThrough;
    private long _pendingSince;
    private long _walFull;

    /// <summary>Times the write-ahead log filled and a commit waited for LiteDB's sync (0 when it is not used).</summary>
    public long WriteAheadLogFull => Interlocked.Read(ref _walFull);

    /// <summary>The write-ahead log's file, or null when the journal does not use one.</summary>
    public string? WriteAheadLogPath => _wal?.Path;

    internal static string WalPathFor(string path) => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(path) ?? ".",
        System.IO.Path.GetFileNameWithoutExtension(path) + "-wal" + System.IO.Path.GetExtension(path));

    /// <summary>
    /// Opens the write-ahead log when it is wanted or left from a run that used it, and cuts LiteDB's log back to the
    /// synced length its generation began at: what follows was written without a sync (possibly torn by a power cut)
    /// and every change in it is in the records, which replay applies again.
    /// </summary>
    private static WriteAheadLog? OpenWriteAhead(string journalPath, bool wanted, JournalOptions options, Action<SafeFileHandle> dataSync, DurableFileStream log, ILogger logger, out bool created)
    {
        created = false;
        var walPath = WalPathFor(journalPath);
        if (!wanted && !File.Exists(walPath))
        {
            return null;
        }

        var wal = WriteAheadLog.Open(walPath, options.WriteAheadLogBytes, options.SyncOnCommit ? dataSync : static _ => { }, out created);
        if (!wal.HeaderValid && !created)
        {
            Log.JournalWalHeaderInvalid(logger, walPath);
        }

        if (wal.HeaderValid && log.Length > wal.BaseLogLength)
        {
            log.SetLength(wal.BaseLogLength);
            log.Flush(flushToDisk: true);
        }

        return wal;
    }

    /// <summary>Applies the current generation's records (the caller opened LiteDB on the cut log), then starts it over.</summary>
    private WriteAheadLog? ReplayWriteAhead(WriteAheadLog wal, bool keep, long logLengthAtOpen)
    {
        var records = wal.Replay();
        var generation = wal.Generation;
        var appended = 0;
        if (records.Count > 0)
        {
            lock (_dbGate)
            {
                appended = ReplayLocked(records);
            }
        }

        if (records.Count > 0)
        {
            Sync();
            Log.JournalWalReplayed(_logger, wal.Path, records.Count, generation, appended, logLengthAtOpen, wal.HeaderValid ? wal.BaseLogLength : logLengthAtOpen);
        }

        wal.Recycle(_logStream.Length);
        _appliedThrough = _state.LastSequence;
        _snapshot = _state.ToSnapshot(_options.QuotaBytes);
        if (!keep)
        {
            // A run that used the log left it; this one does not: LiteDB is durable now, so the file goes.
            wal.Dispose();
            File.Delete(wal.Path);
            return null;
        }

        if (wal.Capacity != Math.Max(WriteAheadLog.MinimumBytes, _options.WriteAheadLogBytes / WriteAheadLog.BlockBytes * WriteAheadLog.BlockBytes))
        {
            // Agent:Journal:WriteAheadLogBytes changed: the file is written anew at its new size.
            wal.Dispose();
            File.Delete(wal.Path);
            wal = WriteAheadLog.Open(wal.Path, _options.WriteAheadLogBytes, _options.SyncOnCommit ? _dataSync : static _ => { }, out _);
            FileSync.SyncDirectory(System.IO.Path.GetDirectoryName(wal.Path)!);
            wal.Recycle(_logStream.Length);
        }

        Log.JournalWalInUse(_logger, wal.Path, wal.Capacity);
        return wal;
    }

    // One transaction. A reading LiteDB already holds (a checkpoint made it durable before the log started over) is
    // skipped by its sequence; acks and published marks are idempotent.
    private int ReplayLocked(List<WalRecord> records)
    {
        var before = _state.Clone();
        var appended = 0;
        try
        {
            _db.BeginTrans();
            foreach (var record in records)
            {
                switch (record.Kind)
                {
                    case WalRecordKind.Append when record.Entry!.Sequence > _state.LastSequence:
                        ReplayAppend(record.Lane, record.Entry);
                        appended++;
                        break;
                    case WalRecordKind.DeleteRange:
                        DeleteRange(record.Lane, record.First, record.Last);
                        break;
                    case WalRecordKind.Published:
                        ApplyPublished(new PublishedOp(record.Lane, record.Last));
                        break;
                }
            }

            _state.CommitNumber++;
            WriteStagedSegments(null);
            _meta.Upsert(_state.ToDocument(MetaId, GatewayId));
            _db.Commit();
        }
        catch
        {
            TryRollback();
            ClearStaged();
            _state = before;
            throw;
        }

        return appended;
    }

    // As Append did when the reading was acknowledged, from the same state: the same quota decisions and sheds.
    private void ReplayAppend(Lane lane, SegmentEntry entry)
    {
        var size = EntrySize(entry);
        if (_state.UsedBytes + size > _options.QuotaBytes)
        {
            ShedRoutine(_state.UsedBytes + size - _options.QuotaBytes);
        }

        _state.LastSequence = entry.Sequence;
        Stage(lane, entry, size);
        _state.Bytes[(int)lane] += size;
        _state.Counts[(int)lane]++;
        _duplicates.Add(entry.Serial, entry.DeviceTicks, DuplicateFilter.Hash(entry.Payload));
    }

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
