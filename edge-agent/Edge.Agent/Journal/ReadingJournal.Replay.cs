using Edge.Agent.Journal.WriteAhead;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>
/// The write-ahead log at open: where its file is, opening it (and cutting LiteDB's log back to the generation's synced
/// length), and replaying its records into LiteDB in one transaction before the writer starts.
/// </summary>
internal sealed partial class ReadingJournal
{
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
}
