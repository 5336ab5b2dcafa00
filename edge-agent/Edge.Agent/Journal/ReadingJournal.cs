using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Edge.Hosting.Metrics;
using Edge.Agent.Journal.WriteAhead;
using Edge.Contracts.Devices;
using LiteDB;
using LiteDB.Engine;
using Microsoft.Win32.SafeHandles;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Journal;

/// <summary>
/// The durable journal: every reading the agent acknowledges is committed and fsync'd here first.
/// One writer task applies all changes in group commits (everything queued at that moment, one transaction,
/// one fdatasync); readers query committed data concurrently. There is no commit timer: a group is everything that
/// arrived while the previous group was committed and synced, which keeps latency low with few devices and makes
/// groups large with many. An operator may set a least interval between commits to save flash writes
/// (<see cref="JournalOptions.MinCommitIntervalMs"/>, off by default); urgent readings never wait for it.
/// Each group is stored as one segment document per lane (an array of entries keyed by its first sequence),
/// because a LiteDB document costs ~50 µs to insert and the per-reading cost, not the disk, limits throughput.
/// </summary>
internal sealed partial class ReadingJournal : IAsyncDisposable
{
    // Per-entry bytes counted against the quota on top of the payload: identity, times, BSON framing, index node.
    internal const int EntryOverheadBytes = 96;

    // A segment is closed at 64 KiB of payload (~300 seed-sized readings): a live group commit fits in one, and a
    // sender reading 2,000 readings or an ack deleting them touches a few small documents. At 1 MiB, every read
    // decoded ~5,000 readings to return 2,000 and every ack rewrote the rest of the segment; above ~80 KiB, every
    // segment read or written is a large-object-heap array, which only a full GC frees (docs/performance.md).
    private const int MaxSegmentPayloadBytes = 64 * 1024;
    private const string MetaId = "journal";

    private static readonly string[] LaneCollections = ["urgent", "routine"];

    // LiteDB copies its log into the data file (and fsyncs that file) inside whichever commit finds the log at 1,000
    // pages, and every reading waiting on that commit waits for the copy: it set the p99 at 10 devices (15-16 ms; 6.6-
    // 9.2 ms without checkpoints). The writer checkpoints instead, between commits and 4x less often: at
    // IdleCheckpointPages (32 MiB of log) when nothing is queued, at ForcedCheckpointPages (64 MiB) whatever is queued.
    // A longer log costs disk space and, after a crash only, a longer open (LiteDB reads the log's page headers).
    private const long IdleCheckpointPages = 4_000;
    private const long ForcedCheckpointPages = 8_000;

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument>[] _lanes;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly ILiteCollection<BsonDocument> _deadLetters;
    private readonly WorkQueue<WriteOp> _ops = new();

    // Ends the writer's wait for the commit interval: released by an urgent append and by the close. A release the
    // writer did not need leaves a count behind, which only lets one later commit skip its wait. Never disposed: an
    // append racing the close may still release it, and a SemaphoreSlim without a wait handle holds nothing to free.
    private readonly SemaphoreSlim _hurry = new(0);
    private readonly TimeSpan _minCommitInterval;
    private long? _lastCommitStarted;

    // LiteDB 5.0.21 is not safe for reads concurrent with a write transaction: a stress test with concurrent readers
    // got "page type must be collection page", and the uplink saw readings skipped by its cursor. Every LiteDB call
    // holds this lock; the writer holds it for a group commit (the fdatasync runs outside it), readers for one query.
    private readonly Lock _dbGate = new();
    private readonly JournalOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DataFileStream _dataStream;
    private readonly DurableFileStream _logStream;
    private readonly Action<SafeFileHandle> _dataSync;
    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;
    private readonly DuplicateFilter _duplicates;
    private readonly List<SegmentEntry>[] _staged = [[], []];
    private readonly long[] _stagedBytes = new long[2];
    private readonly Task _writer;
    private State _state;
    private volatile JournalSnapshot _snapshot;

    // Group-commit statistics, written by the writer only. Group size and fdatasync time are what a slow disk or a
    // changed load shows first; the meter gives listeners their distribution.
    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<int> _groupSize;
    private readonly Histogram<double> _syncDuration;
    private long _commits;
    private long _committedOperations;
    private long _syncTicks;

    private ReadingJournal(LiteDatabase db, DataFileStream data, DurableFileStream log, string path, string gatewayId, JournalOptions options, Action<SafeFileHandle> dataSync, int rememberedPerDevice, TimeProvider time, ILogger logger,
        WriteAheadLog? wal = null, bool keepWal = false, long logLengthAtOpen = 0)
    {
        _db = db;
        _duplicates = new DuplicateFilter(rememberedPerDevice);
        _dataSync = dataSync;
        _groupSize = _meter.CreateHistogram("edge.journal.group_size", unit: "{operation}", description: "Operations (mostly readings) per group commit",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        _syncDuration = _meter.CreateHistogram("edge.journal.sync_duration", unit: "ms", description: "fdatasync of the journal log per group commit",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MillisecondBuckets });
        RegisterStateGauges();
        _dataStream = data;
        _logStream = log;
        _options = options;
        _minCommitInterval = TimeSpan.FromMilliseconds(options.MinCommitIntervalMs);
        _time = time;
        _logger = logger;
        Path = path;
        GatewayId = gatewayId;
        _lanes = [db.GetCollection(LaneCollections[0], BsonAutoId.Int64), db.GetCollection(LaneCollections[1], BsonAutoId.Int64)];
        _meta = db.GetCollection("meta");
        _deadLetters = db.GetCollection("dead_letters", BsonAutoId.Int64);
        _reports = db.GetCollection(ReportsCollection);
        db.CheckpointSize = 0; // no automatic checkpoints; see CheckpointIfDue
        _state = LoadOrCreateMeta(gatewayId);
        LoadDeadLetterBytes();
        LoadReportBytesBySerial();
        Epoch = _state.Epoch;
        LoadDuplicateWindow(options.DuplicateWindow);
        _snapshot = _state.ToSnapshot(options.QuotaBytes);
        _appliedThrough = _state.LastSequence;
        if (wal is not null)
        {
            _wal = ReplayWriteAhead(wal, keepWal, logLengthAtOpen);
        }

        _writer = Task.Run(RunWriterAsync);
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>The gateway this journal belongs to.</summary>
    public string GatewayId { get; }

    /// <summary>Chosen once when the journal file is created; part of every entry's identity.</summary>
    public long Epoch { get; }

    /// <summary>Whether the file is encrypted at rest (a journal created without a key stays unencrypted).</summary>
    public bool Encrypted { get; private init; }

    /// <summary>The System.Diagnostics.Metrics meter of the journal's group commits.</summary>
    public const string MeterName = "ClinicEdge.Agent.Journal";

    // Why routine readings are shed: the only reason there is, counted in ShedByReason and reported from the start.
    private const string QuotaShedReason = "quota";

    /// <summary>Histogram boundaries for the agent's millisecond histograms: an fdatasync and a device's wait for its PUBACK.</summary>
    public static IReadOnlyList<double> MillisecondBuckets { get; } = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000];

    /// <summary>The journal's meter, for the agent's metrics collector.</summary>
    public Meter Meter => _meter;

    /// <summary>Counters as of the last commit (cheap; no database access).</summary>
    public JournalSnapshot Snapshot => _snapshot;

    /// <summary>The configured <see cref="JournalOptions.MinCommitIntervalMs"/> (zero when off).</summary>
    public TimeSpan MinCommitInterval => _minCommitInterval;

    /// <summary>Group commits since the journal was opened: how many, how many operations they held, time in fdatasync.</summary>
    public CommitStatistics Commits => new(
        Interlocked.Read(ref _commits),
        Interlocked.Read(ref _committedOperations),
        TimeSpan.FromTicks(Interlocked.Read(ref _syncTicks)));

    /// <summary>
    /// Completes with the error if the journal can no longer promise durability (an fdatasync failed: after EIO the
    /// page cache cannot be trusted). The host stops on it so the service restarts and reopens what is on disk.
    /// </summary>
    public Task Faulted => _faulted.Task;

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
    /// </summary>
    public Task<T> CommitStateAsync<T>(Func<LiteDatabase, T> change)
    {
        var op = new StateOp(db => change(db));
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        return Typed(op.Completion.Task);

        static async Task<T> Typed(Task<object?> result) => (T)(await result)!;
    }

    /// <summary>Reads the device-state collections consistently with the writer (never inside an uncommitted group).</summary>
    public T ReadState<T>(Func<LiteDatabase, T> read)
    {
        lock (_dbGate)
        {
            return read(_db);
        }
    }

    /// <summary>Reads a lane in sequence order, starting after <paramref name="afterSequence"/>.</summary>
    public IReadOnlyList<JournalEntry> Read(Lane lane, long afterSequence, int maxCount)
    {
        lock (_dbGate)
        {
            return ReadLocked(lane, afterSequence, maxCount);
        }
    }

    private List<JournalEntry> ReadLocked(Lane lane, long afterSequence, int maxCount)
    {
        var list = new List<JournalEntry>(Math.Min(maxCount, 1024));
        foreach (var segment in SegmentsFrom(_lanes[(int)lane], afterSequence + 1))
        {
            foreach (var entry in Segment.Entries(segment))
            {
                if (entry.Sequence > afterSequence)
                {
                    list.Add(ToEntry(entry, lane));
                    if (list.Count == maxCount)
                    {
                        return list;
                    }
                }
            }
        }

        // Acknowledged readings not yet applied to LiteDB (write-ahead mode): all above what LiteDB holds, in order.
        foreach (var entry in _pending[(int)lane])
        {
            if (entry.Sequence > afterSequence)
            {
                list.Add(ToEntry(entry, lane));
                if (list.Count == maxCount)
                {
                    break;
                }
            }
        }

        return list;
    }

    // What waits and how old it is: what an alert on a gateway watches (a backlog that grows while the uplink is up, an
    // urgent reading waiting minutes). Read from the counters of the last commit, except the oldest age (one query).
    private void RegisterStateGauges()
    {
        _meter.CreateObservableGauge("edge.journal.entries", () => PerLane(s => s.EntriesPerLane), description: "Readings waiting in the journal, by lane");
        _meter.CreateObservableGauge("edge.journal.size", () => PerLane(s => s.BytesPerLane), unit: "By", description: "Bytes of the readings waiting, by lane");
        _meter.CreateObservableGauge("edge.journal.oldest_age", OldestAges, unit: "s", description: "Age of the oldest reading waiting, by lane (absent when the lane is empty)");
        _meter.CreateObservableGauge("edge.journal.used", () => _snapshot.UsedBytes, unit: "By", description: "Bytes counted against the journal quota");
        _meter.CreateObservableGauge("edge.journal.quota", () => _snapshot.QuotaBytes, unit: "By", description: "The journal quota (Agent:Journal:QuotaBytes)");
        _meter.CreateObservableCounter("edge.journal.shed", () => CountsByTag.Measure(_snapshot.ShedByReason, [QuotaShedReason], "reason"), description: "Routine readings shed to stay within the quota, by reason");
        _meter.CreateObservableGauge("edge.journal.dead_letters", () => _snapshot.DeadLetters, description: "Refused messages kept for edgectl deadletters list");
        _meter.CreateObservableGauge("edge.journal.dead_letters_size", () => _snapshot.DeadLetterBytes, unit: "By", description: "Bytes of the dead letters kept (Agent:Journal:DeadLetterMaxBytes)");
        _meter.CreateObservableCounter("edge.journal.dead_letters_evicted", () => _snapshot.DeadLettersEvicted, description: "Oldest dead letters removed to stay within Agent:Journal:DeadLetterCapacity and DeadLetterMaxBytes");
        _meter.CreateObservableCounter("edge.journal.dead_letters_dropped", () => DeadLettersDropped, description: "Refused messages not kept as dead letters because the writer was behind");
    }

    private IEnumerable<Measurement<long>> PerLane(Func<JournalSnapshot, long[]> values)
    {
        var perLane = values(_snapshot);
        foreach (var lane in Lanes.All)
        {
            yield return new Measurement<long>(perLane[(int)lane], new KeyValuePair<string, object?>("lane", Lanes.Name(lane)));
        }
    }

    private IEnumerable<Measurement<double>> OldestAges()
    {
        var ages = new List<Measurement<double>>(2);
        if (Volatile.Read(ref _disposed) != 0)
        {
            return ages; // closing: the database is going away
        }

        try
        {
            foreach (var lane in Lanes.All)
            {
                if (OldestAge(lane) is { } age)
                {
                    ages.Add(new Measurement<double>(age.TotalSeconds, new KeyValuePair<string, object?>("lane", Lanes.Name(lane))));
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The close began between the check above and the query.
        }

        return ages;
    }

    /// <summary>Age of the oldest entry of a lane, or null when the lane is empty.</summary>
    public TimeSpan? OldestAge(Lane lane)
    {
        long? ticks;
        lock (_dbGate)
        {
            var first = _lanes[(int)lane].Find(Query.All(), 0, 1).FirstOrDefault();
            var pending = _pending[(int)lane];
            ticks = first is not null ? Segment.FirstReceivedTicks(first) : pending.Count > 0 ? pending[0].ReceivedTicks : null;
        }

        return ticks is { } t ? _time.GetUtcNow() - new DateTimeOffset(t, TimeSpan.Zero) : null;
    }

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

    // Commit, fdatasync, complete, in turn. Syncing on a second task while the next group committed (at most one or two
    // groups ahead) was measured against this: with the writer waiting for the sync, everything that arrives meanwhile
    // becomes one larger group, and a commit's fixed cost is most of the journal's CPU. At 100 devices: 15,231 against
    // 12,587 msgs/s and 79 against 97 us of agent CPU per message; at 10: 7,775 against 6,901 (docs/performance.md).
    private async Task RunWriterAsync()
    {
        var group = new List<WriteOp>(_options.MaxGroupCommit);
        while (!_faulted.Task.IsCompleted && await _ops.WaitAsync())
        {
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
    private bool SyncGroup(List<WriteOp> group)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            Sync();
            var elapsed = Stopwatch.GetElapsedTime(started);
            Interlocked.Add(ref _syncTicks, elapsed.Ticks);
            _syncDuration.Record(elapsed.TotalMilliseconds);
            return true;
        }
        catch (Exception ex)
        {
            Log.JournalSyncFailed(_logger, ex);
            _faulted.TrySetException(ex);
            _ops.Complete();
            foreach (var op in group)
            {
                op.Fail(ex);
            }

            return false;
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
                switch (op)
                {
                    case AppendOp append:
                        Append(append, accepted, deferred: false);
                        break;
                    case DeleteRangeOp delete:
                        delete.Result = DeleteRange(delete.Lane, delete.First, delete.Last);
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

        foreach (var (serial, ticks, hash) in accepted)
        {
            _duplicates.Add(serial, ticks, hash);
        }

        ClearPending();
        _snapshot = _state.ToSnapshot(_options.QuotaBytes);
        return true;
    }

    private void Append(AppendOp op, List<(string Serial, long Ticks, ulong Hash)> accepted, bool deferred) => op.Result = Append(op, op.Entry, accepted, deferred);

    private AppendResult Append(AppendOp op, NewEntry entry, List<(string Serial, long Ticks, ulong Hash)> accepted, bool deferred)
    {
        var ticks = entry.DeviceTime.UtcTicks;
        var hash = DuplicateFilter.Hash(entry.Payload.Span);
        if (_duplicates.Contains(entry.Serial, ticks, hash) || accepted.Contains((entry.Serial, ticks, hash)))
        {
            return new AppendResult(AppendOutcome.Duplicate, 0);
        }

        var size = EntrySize(entry.Serial, entry.Payload.Length);
        if (_state.UsedBytes + size > _options.QuotaBytes)
        {
            // Shed only when shedding can make room: urgent data is never shed, so if urgent alone
            // (plus this entry) is over quota, refuse and keep every routine reading we have.
            if (_state.Bytes[(int)Lane.Urgent] + _state.ReportBytes + size > _options.QuotaBytes)
            {
                return new AppendResult(AppendOutcome.QuotaExceeded, 0);
            }

            ShedRoutine(_state.UsedBytes + size - _options.QuotaBytes);
        }

        var sequence = ++_state.LastSequence;
        var staged = new SegmentEntry(sequence, entry.Serial, ticks, _time.GetUtcNow().UtcTicks, entry.Payload.ToArray());
        op.Staged = staged;
        if (deferred)
        {
            Defer(entry.Lane, staged);
        }
        else
        {
            Stage(entry.Lane, staged, size);
        }

        _state.Bytes[(int)entry.Lane] += size;
        _state.Counts[(int)entry.Lane]++;
        accepted.Add((entry.Serial, ticks, hash));
        return new AppendResult(AppendOutcome.Committed, sequence);
    }

    private void ShedRoutine(long bytesNeeded)
    {
        var routine = _lanes[(int)Lane.Routine];
        long freed = 0;
        while (freed < bytesNeeded && routine.Find(Query.All(), 0, 1).FirstOrDefault() is { } segment)
        {
            var freedBefore = freed;
            freed += RemoveEntries(routine, Lane.Routine, segment, (_, freedHere) => freedBefore + freedHere < bytesNeeded, shedReason: QuotaShedReason);
        }

        // Still short: this group's own routine readings, oldest first (only with a quota smaller than one group).
        var staged = _staged[(int)Lane.Routine];
        while (freed < bytesNeeded && staged.Count > 0)
        {
            var size = EntrySize(staged[0]);
            staged.RemoveAt(0);
            _stagedBytes[(int)Lane.Routine] -= size;
            freed += size;
            Account(Lane.Routine, -size, QuotaShedReason);
        }
    }

    private int DeleteRange(Lane lane, long first, long last)
    {
        var collection = _lanes[(int)lane];
        var removed = 0;
        if (_staged[(int)lane].Count > 0)
        {
            // Readings staged in this transaction (write-ahead mode: applied from memory, or replayed) are acked too.
            WriteSegment(lane);
        }

        foreach (var segment in SegmentsFrom(collection, first).TakeWhile(d => Segment.Id(d) <= last).ToList())
        {
            var before = _state.Counts[(int)lane];
            RemoveEntries(collection, lane, segment, (e, _) => e.Sequence >= first && e.Sequence <= last, shedReason: null);
            removed += (int)(before - _state.Counts[(int)lane]);
        }

        return removed;
    }

    // Removes the entries the predicate selects (for shedding: a prefix; for acks: a range) and rewrites or deletes
    // the segment. Returns the bytes freed.
    private long RemoveEntries(ILiteCollection<BsonDocument> collection, Lane lane, BsonDocument segment, Func<SegmentEntry, long, bool> remove, string? shedReason)
    {
        var kept = new List<SegmentEntry>();
        long freed = 0;
        foreach (var entry in Segment.Entries(segment))
        {
            if (remove(entry, freed))
            {
                var size = EntrySize(entry);
                freed += size;
                Account(lane, -size, shedReason);
            }
            else
            {
                kept.Add(entry);
            }
        }

        if (kept.Count == 0)
        {
            collection.Delete(segment["_id"]);
        }
        else if (freed > 0)
        {
            collection.Update(Segment.ToDocument(kept, Segment.Id(segment)));
        }

        return freed;
    }

    private void Account(Lane lane, long bytes, string? shedReason)
    {
        _state.Bytes[(int)lane] += bytes;
        _state.Counts[(int)lane] += Math.Sign(bytes);
        if (shedReason is not null)
        {
            _state.Shed[shedReason] = _state.Shed.GetValueOrDefault(shedReason) + 1;
        }
    }

    private void Stage(Lane lane, SegmentEntry entry, long size)
    {
        var staged = _staged[(int)lane];
        if (_stagedBytes[(int)lane] + size > MaxSegmentPayloadBytes && staged.Count > 0)
        {
            WriteSegment(lane);
        }

        staged.Add(entry);
        _stagedBytes[(int)lane] += size;
    }

    // Writes each lane's last segment of the group; with counters, each one carries them. True if any did.
    private bool WriteStagedSegments(BsonDocument? counters)
    {
        var carried = false;
        foreach (var lane in Lanes.All)
        {
            if (_staged[(int)lane].Count > 0)
            {
                WriteSegment(lane, counters);
                carried |= counters is not null;
            }
        }

        return carried;
    }

    // One segment document per lane and group commit (or per MaxSegmentPayloadBytes); see Segment for its layout.
    private void WriteSegment(Lane lane, BsonDocument? counters = null)
    {
        var staged = _staged[(int)lane];
        _lanes[(int)lane].Insert(Segment.ToDocument(staged, counters: counters));
        staged.Clear();
        _stagedBytes[(int)lane] = 0;
    }

    private void ClearStaged()
    {
        foreach (var lane in Lanes.All)
        {
            _staged[(int)lane].Clear();
            _stagedBytes[(int)lane] = 0;
        }
    }

    private static IEnumerable<BsonDocument> SegmentsFrom(ILiteCollection<BsonDocument> collection, long sequence)
    {
        var holder = collection.Query()
            .Where(BsonExpression.Create("_id <= @0", new BsonValue(sequence)))
            .OrderByDescending("_id")
            .Limit(1)
            .FirstOrDefault();
        if (holder is not null && Segment.LastSequence(holder) >= sequence)
        {
            yield return holder;
        }

        // One segment per query: callers stop as soon as they have enough. A parameter, not Query.GT: LiteDB 5 writes
        // Query.GT's value into the expression text and compiles every new text afresh (a LINQ expression compiled and
        // JIT-compiled per call), which cost more CPU than everything else the uplink does (docs/performance.md).
        var after = sequence;
        while (collection.Find(BsonExpression.Create("_id > @0", new BsonValue(after)), 0, 1).FirstOrDefault() is { } segment)
        {
            yield return segment;
            after = Segment.Id(segment);
        }
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

    private State LoadOrCreateMeta(string gatewayId)
    {
        var doc = _meta.FindById(MetaId);
        if (doc is null)
        {
            var created = new State { Epoch = NewEpoch() };
            _meta.Insert(created.ToDocument(MetaId, gatewayId));
            return created;
        }

        var owner = doc["gw"].AsString;
        if (!string.Equals(owner, gatewayId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The journal {Path} belongs to gateway '{owner}', but Agent:GatewayId is '{gatewayId}'. " +
                "Its entries carry that identity; let it drain under the old id, or move the file aside, before changing the id.");
        }

        // The newest counters are in the meta document or, after commits of readings only, in a lane's last segment;
        // the commit number says which. Two index look-ups, whatever the backlog.
        var state = State.FromDocument(doc);
        foreach (var lane in _lanes)
        {
            if (lane.Find(Query.All(Query.Descending), 0, 1).FirstOrDefault() is { } last
                && Segment.Counters(last) is { } counters
                && counters["cn"].AsInt64 > state.CommitNumber)
            {
                state = State.FromDocument(counters);
            }
        }

        return state;
    }

    private void LoadDuplicateWindow(int window)
    {
        if (window == 0)
        {
            return;
        }

        // Only the tail: reading it by descending _id costs the same with 10 entries or 10 million.
        var tail = new List<SegmentEntry>();
        foreach (var lane in _lanes)
        {
            var taken = 0;
            foreach (var segment in lane.Find(Query.All(Query.Descending)))
            {
                var entries = Segment.Entries(segment);
                tail.AddRange(entries);
                taken += entries.Count;
                if (taken >= window / 2)
                {
                    break;
                }
            }
        }

        foreach (var entry in tail.OrderBy(e => e.Sequence))
        {
            _duplicates.Add(entry.Serial, entry.DeviceTicks, DuplicateFilter.Hash(entry.Payload));
        }
    }

    private static JournalEntry ToEntry(SegmentEntry entry, Lane lane) => new(
        entry.Sequence,
        entry.Serial,
        SerialNumber.Parse(entry.Serial).Kind,
        lane,
        new DateTimeOffset(entry.DeviceTicks, TimeSpan.Zero),
        new DateTimeOffset(entry.ReceivedTicks, TimeSpan.Zero),
        entry.Payload);

    private static long EntrySize(string serial, int payloadLength) => payloadLength + serial.Length + EntryOverheadBytes;

    private static long EntrySize(SegmentEntry entry) => EntrySize(entry.Serial, entry.Payload.Length);

    // Random rather than a clock reading: gateways without a battery-backed clock boot in 1970.
    private static long NewEpoch() => RandomNumberGenerator.GetInt32(1, int.MaxValue) * 1_000_000L + RandomNumberGenerator.GetInt32(0, 1_000_000);

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

    // Counters kept in one meta document, updated in the same transaction as the entries they count,
    // so they are exact after a crash without scanning the journal.
    private sealed class State
    {
        public long Epoch { get; init; }

        public long LastSequence { get; set; }

        /// <summary>Counts commits; orders the meta document against the counters carried by segments.</summary>
        public long CommitNumber { get; set; }

        public long[] Bytes { get; init; } = new long[2];

        public long[] Counts { get; init; } = new long[2];

        public Dictionary<string, long> Shed { get; init; } = new(StringComparer.Ordinal);

        public long DeadLetterCount { get; set; }

        public long DeadLetterLastId { get; set; }

        /// <summary>Bytes of the dead letters kept, against <see cref="JournalOptions.DeadLetterMaxBytes"/>; -1 until counted.</summary>
        public long DeadLetterBytes { get; set; }

        /// <summary>Dead letters evicted past their budget since the journal was opened (not stored).</summary>
        public long DeadLettersEvicted { get; set; }

        /// <summary>Per ECG recorder, its report bytes (as <see cref="ReportBytes"/>); rebuilt from the reports at open.</summary>
        public Dictionary<string, long> ReportBytesBySerial { get; init; } = new(StringComparer.Ordinal);

        /// <summary>Report JSON and PDF bytes (with per-item overhead): counted against the quota, never shed.</summary>
        public long ReportBytes { get; set; }

        public long ReportCount { get; set; }

        /// <summary>Per lane, the highest sequence the uplink has published in this epoch: acks above it are refused.</summary>
        public long[] Published { get; init; } = new long[2];

        public long UsedBytes => Bytes[0] + Bytes[1] + ReportBytes;

        public State Clone() => new()
        {
            Epoch = Epoch,
            LastSequence = LastSequence,
            CommitNumber = CommitNumber,
            Bytes = (long[])Bytes.Clone(),
            Counts = (long[])Counts.Clone(),
            Shed = new Dictionary<string, long>(Shed, StringComparer.Ordinal),
            DeadLetterCount = DeadLetterCount,
            DeadLetterLastId = DeadLetterLastId,
            DeadLetterBytes = DeadLetterBytes,
            DeadLettersEvicted = DeadLettersEvicted,
            ReportBytesBySerial = new Dictionary<string, long>(ReportBytesBySerial, StringComparer.Ordinal),
            ReportBytes = ReportBytes,
            ReportCount = ReportCount,
            Published = (long[])Published.Clone(),
        };

        public BsonDocument ToDocument(string id, string gatewayId)
        {
            var doc = ToCounters();
            doc["_id"] = id;
            doc["gw"] = gatewayId;
            return doc;
        }

        public BsonDocument ToCounters()
        {
            var shed = new BsonDocument();
            foreach (var (reason, count) in Shed)
            {
                shed[reason] = count;
            }

            return new BsonDocument
            {
                ["epoch"] = Epoch,
                ["seq"] = LastSequence,
                ["cn"] = CommitNumber,
                ["ub"] = Bytes[0],
                ["rb"] = Bytes[1],
                ["uc"] = Counts[0],
                ["rc"] = Counts[1],
                ["shed"] = shed,
                ["dlc"] = DeadLetterCount,
                ["dlid"] = DeadLetterLastId,
                ["dlb"] = DeadLetterBytes,
                ["pb"] = ReportBytes,
                ["pc"] = ReportCount,
                ["pub"] = Published[0],
                ["prb"] = Published[1],
            };
        }

        public static State FromDocument(BsonDocument doc)
        {
            var state = new State
            {
                Epoch = doc["epoch"].AsInt64,
                LastSequence = doc["seq"].AsInt64,

                // Journals written before counters rode in segments have no commit number.
                CommitNumber = doc.TryGetValue("cn", out var commit) ? commit.AsInt64 : 0,
                Bytes = [doc["ub"].AsInt64, doc["rb"].AsInt64],
                Counts = [doc["uc"].AsInt64, doc["rc"].AsInt64],
                DeadLetterCount = doc["dlc"].AsInt64,
                DeadLetterLastId = doc["dlid"].AsInt64,

                // Journals written before dead letters had a byte budget: counted once at open (LoadDeadLetterBytes).
                DeadLetterBytes = doc.TryGetValue("dlb", out var deadLetterBytes) ? deadLetterBytes.AsInt64 : -1,

                // Journals written before reports existed have no report counters.
                ReportBytes = doc.TryGetValue("pb", out var reportBytes) ? reportBytes.AsInt64 : 0,
                ReportCount = doc.TryGetValue("pc", out var reportCount) ? reportCount.AsInt64 : 0,

                // Journals written before the uplink recorded what it published have no marks: acks for ranges sent
                // before the upgrade are then refused, and those readings are simply sent (and stored) again.
                Published =
                [
                    doc.TryGetValue("pub", out var publishedUrgent) ? publishedUrgent.AsInt64 : 0,
                    doc.TryGetValue("prb", out var publishedRoutine) ? publishedRoutine.AsInt64 : 0,
                ],
            };
            foreach (var (reason, count) in doc["shed"].AsDocument)
            {
                state.Shed[reason] = count.AsInt64;
            }

            return state;
        }

        public JournalSnapshot ToSnapshot(long quotaBytes) => new(
            Epoch,
            LastSequence,
            quotaBytes,
            UsedBytes,
            [Counts[0], Counts[1]],
            [Bytes[0], Bytes[1]],
            new Dictionary<string, long>(Shed, StringComparer.Ordinal),
            DeadLetterCount,
            ReportCount,
            ReportBytes)
        {
            PublishedPerLane = [Published[0], Published[1]],
            DeadLetterBytes = DeadLetterBytes,
            DeadLettersEvicted = DeadLettersEvicted,
        };
    }
}

/// <summary>Group commits since the journal was opened.</summary>
internal sealed record CommitStatistics(long Count, long Operations, TimeSpan SyncTime)
{
    public double OperationsPerCommit => Count == 0 ? 0 : (double)Operations / Count;

    public double SyncMillisecondsPerCommit => Count == 0 ? 0 : SyncTime.TotalMilliseconds / Count;
}

/// <summary>Journal counters as of the last commit.</summary>
internal sealed record JournalSnapshot(
    long Epoch,
    long LastSequence,
    long QuotaBytes,
    long UsedBytes,
    long[] EntriesPerLane,
    long[] BytesPerLane,
    IReadOnlyDictionary<string, long> ShedByReason,
    long DeadLetters,
    long Reports = 0,
    long ReportBytes = 0)
{
    /// <summary>Per lane, the highest sequence the uplink has published in this epoch (durable; see <see cref="ReadingJournal.MarkPublishedAsync"/>).</summary>
    public IReadOnlyList<long> PublishedPerLane { get; init; } = [0, 0];

    /// <summary>Bytes of the dead letters kept (their own budget, <see cref="JournalOptions.DeadLetterMaxBytes"/>).</summary>
    public long DeadLetterBytes { get; init; }

    /// <summary>Dead letters evicted past their count or byte budget since the journal was opened.</summary>
    public long DeadLettersEvicted { get; init; }
}
