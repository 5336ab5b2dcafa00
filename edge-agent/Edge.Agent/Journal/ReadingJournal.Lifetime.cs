using Edge.Agent.Journal.WriteAhead;
using LiteDB;
using LiteDB.Engine;
using Microsoft.Win32.SafeHandles;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Journal;

/// <summary>Open and close: the files, the encryption key, the write-ahead log if any, and the clean close.</summary>
internal sealed partial class ReadingJournal
{
    /// <summary>Opens (or creates) the journal. Does not scan it: start-up cost does not grow with the backlog.</summary>
    public static ReadingJournal Open(string path, string gatewayId, JournalOptions options, TimeProvider time, ILogger logger) =>
        Open(path, gatewayId, options, time, logger, FileSync.DataSync);

    /// <summary>
    /// Opens the journal with another data-sync call. Tests pass an fdatasync that fails: nothing on this machine makes a
    /// real one fail (no device-mapper to inject I/O errors), and the failure path is the one that must not lose data.
    /// <paramref name="rememberedPerDevice"/> is how many recent readings of each device are recognised when re-sent: the
    /// agent passes its broker's receive maximum (<c>Agent:Broker:ReceiveMaximum</c>), the most a device may have in flight.
    /// </summary>
    internal static ReadingJournal Open(string path, string gatewayId, JournalOptions options, TimeProvider time, ILogger logger, Action<SafeFileHandle> dataSync,
        int rememberedPerDevice = DuplicateFilter.DefaultPerDevice)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var key = KeyFile.Read(options);
        var created = !File.Exists(fullPath);
        key = KeyForExistingFile(fullPath, created, key, logger);

        // LiteDB gets our streams rather than file names: their Flush() is a real fsync, which LiteDB's own encrypted
        // stream never issues (strace shows its checkpoint truncating the log without syncing the data file).
        DataFileStream? data = null;
        DurableFileStream? log = null;
        WriteAheadLog? wal = null;
        LiteDatabase? db = null;
        try
        {
            data = new DataFileStream(fullPath);
            log = new DurableFileStream(LogPathFor(fullPath));
            var walWanted = options.WriteAheadLog && key is null;
            if (options.WriteAheadLog && key is not null)
            {
                Log.JournalWalNotForEncrypted(logger, fullPath);
            }

            if (created)
            {
                // A write-ahead log without its journal belongs to a journal that is gone: its records are not this one's.
                File.Delete(WalPathFor(fullPath));
            }

            var logLengthAtOpen = log.Length;
            wal = OpenWriteAhead(fullPath, walWanted, options, dataSync, log, logger, out var walCreated);
            if (created || walCreated)
            {
                // The new files' directory entries must survive a power cut too, or the journal vanishes whole.
                FileSync.SyncDirectory(directory);
            }

            db = new LiteDatabase(new LiteEngine(new EngineSettings { DataStream = data, LogStream = log, Password = key?.Password }));
            var journal = new ReadingJournal(db, data, log, fullPath, gatewayId, options, dataSync, rememberedPerDevice, time, logger, wal, walWanted, logLengthAtOpen) { Encrypted = key is not null };
            if (key is null)
            {
                Log.JournalNotEncrypted(logger, fullPath);
            }
            else
            {
                Log.JournalEncrypted(logger, fullPath, key.Source);
            }

            return journal;
        }
        catch (LiteException ex) when (ex.ErrorCode == LiteException.INVALID_PASSWORD)
        {
            db?.Dispose();
            wal?.Dispose();
            log?.Dispose();
            data?.Dispose();
            throw KeyFile.Refused($"Agent:Journal: the key from {key!.Source} does not open {fullPath} (it was created with another key).");
        }
        catch
        {
            db?.Dispose();
            wal?.Dispose();
            log?.Dispose();
            data?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The key to open an existing file with. LiteDB marks an encrypted file with a first byte of 1 (its plain header
    /// page starts with page id 0). A key for a file created without one is not used: LiteDB cannot encrypt a file in
    /// place, and an upgrade must not stop a gateway collecting readings. A file that is encrypted needs its key.
    /// </summary>
    private static JournalKey? KeyForExistingFile(string path, bool created, JournalKey? key, ILogger logger)
    {
        if (created || new FileInfo(path).Length == 0)
        {
            return key;
        }

        int first;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            first = file.ReadByte();
        }

        var encrypted = first == 1;
        if (encrypted && key is null)
        {
            throw KeyFile.Refused($"Agent:Journal: {path} is encrypted and no key is configured; give its key with " +
                "Agent:Journal:EncryptionKeyCredential (a systemd credential) or Agent:Journal:EncryptionKeyFile.");
        }

        if (!encrypted && key is not null)
        {
            Log.JournalKeyNotUsed(logger, path, key.Source);
            return null;
        }

        return key;
    }

    internal static string LogPathFor(string path) => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(path) ?? ".",
        System.IO.Path.GetFileNameWithoutExtension(path) + "-log" + System.IO.Path.GetExtension(path));

    /// <summary>Stops taking writes, finishes the group in progress and closes the file cleanly.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _ops.Complete();
        _hurry.Release(); // a close does not wait out the commit interval
        await _writer;
        lock (_dbGate)
        {
            // After a failed fdatasync nothing more is written, not even the meta document or a checkpoint: the next
            // start reads what really reached the disk (the last segments carry the counters it needs).
            if (!_faulted.Task.IsCompleted && ApplyPendingAtClose())
            {
                // The meta document is current after a clean close, so the file needs no segment to be read right.
                // A clean close leaves the log empty: with automatic checkpoints off, LiteDB would not copy it on dispose.
                _meta.Upsert(_state.ToDocument(MetaId, GatewayId));
                _db.Checkpoint();

                // Everything is in the synced data file now: the write-ahead log starts over empty.
                _wal?.Recycle(_logStream.Length);
            }

            _db.Dispose();
        }

        _wal?.Dispose();

        _logStream.Dispose();
        _dataStream.Dispose();
        _ops.Dispose();
        _meter.Dispose();
    }
}
