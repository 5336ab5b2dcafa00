using System.Security.Cryptography;
using System.Threading.Channels;
using Edge.Contracts.Devices;
using LiteDB;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Journal;

/// <summary>
/// The durable journal: every reading the agent acknowledges is committed and fsync'd here first.
/// One writer task applies all changes in group commits (everything queued at that moment, one transaction,
/// one fdatasync); readers query committed data concurrently. There is no commit timer: a group is as large
/// as the number of publishers waiting, which is what keeps latency low with few devices.
/// </summary>
public sealed class ReadingJournal : IAsyncDisposable
{
    // Per-entry bytes counted against the quota on top of the payload: identity, times, BSON framing, index node.
    internal const int EntryOverheadBytes = 96;
    private const int PreviewBytes = 4096;
    private const string MetaId = "journal";

    private static readonly string[] LaneCollections = ["urgent", "routine"];

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument>[] _lanes;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly ILiteCollection<BsonDocument> _deadLetters;
    private readonly Channel<WriteOp> _ops = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly JournalOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _logPath;
    private readonly DuplicateFilter _duplicates = new();
    private readonly Task _writer;
    private FileSync? _logSync;
    private State _state;
    private volatile JournalSnapshot _snapshot;

    private ReadingJournal(LiteDatabase db, string path, string gatewayId, JournalOptions options, TimeProvider time, ILogger logger)
    {
        _db = db;
        _options = options;
        _time = time;
        _logger = logger;
        Path = path;
        GatewayId = gatewayId;
        _logPath = System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(path) ?? ".",
            System.IO.Path.GetFileNameWithoutExtension(path) + "-log" + System.IO.Path.GetExtension(path));
        _lanes = [db.GetCollection(LaneCollections[0], BsonAutoId.Int64), db.GetCollection(LaneCollections[1], BsonAutoId.Int64)];
        _meta = db.GetCollection("meta");
        _deadLetters = db.GetCollection("dead_letters", BsonAutoId.Int64);
        _state = LoadOrCreateMeta(gatewayId);
        Epoch = _state.Epoch;
        LoadDuplicateWindow(options.DuplicateWindow);
        _snapshot = _state.ToSnapshot(options.QuotaBytes);
        _writer = Task.Run(RunWriterAsync);
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>The gateway this journal belongs to.</summary>
    public string GatewayId { get; }

    /// <summary>Chosen once when the journal file is created; part of every entry's identity.</summary>
    public long Epoch { get; }

    /// <summary>Whether the file is encrypted at rest.</summary>
    public bool Encrypted => _options.EncryptionKeyFile is not null;

    /// <summary>Counters as of the last commit (cheap; no database access).</summary>
    public JournalSnapshot Snapshot => _snapshot;

    /// <summary>Opens (or creates) the journal. Does not scan it: start-up cost does not grow with the backlog.</summary>
    public static ReadingJournal Open(string path, string gatewayId, JournalOptions options, TimeProvider time, ILogger logger)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var created = !File.Exists(path);
        var connection = new ConnectionString
        {
            Filename = path,
            Connection = ConnectionType.Direct,
            Password = options.EncryptionKeyFile is null ? null : KeyFile.Read(options.EncryptionKeyFile),
        };

        var db = new LiteDatabase(connection);
        try
        {
            var journal = new ReadingJournal(db, path, gatewayId, options, time, logger);
            if (created)
            {
                // The new file's directory entry must survive a power cut too, or the journal vanishes whole.
                FileSync.SyncDirectory(directory);
            }

            return journal;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Journals a reading and completes once it is committed and synced (or refused).</summary>
    public ValueTask<AppendResult> AppendAsync(NewEntry entry, CancellationToken cancellationToken = default)
    {
        var op = new AppendOp(entry);
        if (!_ops.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(ReadingJournal), "The journal is closed.");
        }

        return new ValueTask<AppendResult>(op.Completion.Task.WaitAsync(cancellationToken));
    }

    /// <summary>Removes a lane's entries with sequence numbers in [first, last]; returns how many were removed.</summary>
    public Task<int> DeleteRangeAsync(Lane lane, long first, long last)
    {
        var op = new DeleteRangeOp(lane, first, last);
        if (!_ops.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(ReadingJournal), "The journal is closed.");
        }

        return op.Completion.Task;
    }

    /// <summary>Keeps a refused message (bounded; the oldest are dropped). Written with the next group commit.</summary>
    public void AddDeadLetter(DeadLetter letter) => _ops.Writer.TryWrite(new DeadLetterOp(letter));

    /// <summary>Reads a lane in sequence order, starting after <paramref name="afterSequence"/>.</summary>
    public IReadOnlyList<JournalEntry> Read(Lane lane, long afterSequence, int maxCount)
    {
        var list = new List<JournalEntry>(Math.Min(maxCount, 1024));
        foreach (var doc in _lanes[(int)lane].Find(Query.GT("_id", afterSequence), 0, maxCount))
        {
            list.Add(ToEntry(doc, lane));
        }

        return list;
    }

    /// <summary>Age of the oldest entry of a lane, or null when the lane is empty.</summary>
    public TimeSpan? OldestAge(Lane lane)
    {
        var first = _lanes[(int)lane].Find(Query.All(), 0, 1).FirstOrDefault();
        return first is null ? null : _time.GetUtcNow() - new DateTimeOffset(first["r"].AsInt64, TimeSpan.Zero);
    }

    /// <summary>The newest dead letters first.</summary>
    public IReadOnlyList<(long Id, DeadLetter Letter, int PayloadBytes)> ListDeadLetters(int limit)
    {
        var list = new List<(long, DeadLetter, int)>();
        foreach (var doc in _deadLetters.Find(Query.All(Query.Descending), 0, limit))
        {
            list.Add((doc["_id"].AsInt64, new DeadLetter(
                new DateTimeOffset(doc["t"].AsInt64, TimeSpan.Zero),
                doc["c"].AsString,
                doc["tp"].AsString,
                doc["rc"].AsString,
                doc["r"].AsString,
                doc["p"].AsBinary), doc["n"].AsInt32));
        }

        return list;
    }

    /// <summary>Stops taking writes, finishes the group in progress and closes the file cleanly.</summary>
    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _logSync?.Dispose();
        _db.Dispose();
    }

    private async Task RunWriterAsync()
    {
        var group = new List<WriteOp>(_options.MaxGroupCommit);
        var reader = _ops.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (group.Count < _options.MaxGroupCommit && reader.TryRead(out var op))
            {
                group.Add(op);
            }

            CommitGroup(group);
            group.Clear();
        }
    }

    // Everything between BeginTrans and Commit runs synchronously on one thread: LiteDB binds a transaction to its thread.
    private void CommitGroup(List<WriteOp> group)
    {
        var before = _state.Clone();
        var accepted = new List<(string Serial, long Ticks, ulong Hash)>();
        try
        {
            _db.BeginTrans();
            foreach (var op in group)
            {
                switch (op)
                {
                    case AppendOp append:
                        append.Result = Append(append.Entry, accepted);
                        break;
                    case DeleteRangeOp delete:
                        delete.Result = DeleteRange(delete.Lane, delete.First, delete.Last);
                        break;
                    case DeadLetterOp letter:
                        InsertDeadLetter(letter.Letter);
                        break;
                }
            }

            _meta.Upsert(_state.ToDocument(MetaId, GatewayId));
            _db.Commit();
            Sync();
        }
        catch (Exception ex)
        {
            TryRollback();
            _state = before;
            Log.JournalCommitFailed(_logger, group.Count, ex);
            foreach (var op in group)
            {
                op.Fail(ex);
            }

            return;
        }

        foreach (var (serial, ticks, hash) in accepted)
        {
            _duplicates.Add(serial, ticks, hash);
        }

        _snapshot = _state.ToSnapshot(_options.QuotaBytes);
        foreach (var op in group)
        {
            op.Complete();
        }
    }

    private AppendResult Append(NewEntry entry, List<(string Serial, long Ticks, ulong Hash)> accepted)
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
            if (_state.Bytes[(int)Lane.Urgent] + size > _options.QuotaBytes)
            {
                return new AppendResult(AppendOutcome.QuotaExceeded, 0);
            }

            ShedRoutine(_state.UsedBytes + size - _options.QuotaBytes);
        }

        var sequence = ++_state.LastSequence;
        var doc = new BsonDocument
        {
            ["_id"] = sequence,
            ["s"] = entry.Serial,
            ["k"] = (int)entry.Kind,
            ["t"] = ticks,
            ["o"] = (int)entry.DeviceTime.Offset.TotalMinutes,
            ["r"] = _time.GetUtcNow().UtcTicks,
            ["p"] = entry.Payload.ToArray(),
        };
        _lanes[(int)entry.Lane].Insert(doc);
        _state.Bytes[(int)entry.Lane] += size;
        _state.Counts[(int)entry.Lane]++;
        accepted.Add((entry.Serial, ticks, hash));
        return new AppendResult(AppendOutcome.Committed, sequence);
    }

    private void ShedRoutine(long bytesNeeded)
    {
        var routine = _lanes[(int)Lane.Routine];
        long freed = 0;
        while (freed < bytesNeeded)
        {
            var oldest = routine.Find(Query.All(), 0, 64).ToList();
            if (oldest.Count == 0)
            {
                return;
            }

            foreach (var doc in oldest)
            {
                routine.Delete(doc["_id"]);
                var size = EntrySize(doc["s"].AsString, doc["p"].AsBinary.Length);
                freed += size;
                _state.Bytes[(int)Lane.Routine] -= size;
                _state.Counts[(int)Lane.Routine]--;
                _state.Shed["quota"] = _state.Shed.GetValueOrDefault("quota") + 1;
                if (freed >= bytesNeeded)
                {
                    return;
                }
            }
        }
    }

    private int DeleteRange(Lane lane, long first, long last)
    {
        var collection = _lanes[(int)lane];
        var removed = 0;
        foreach (var doc in collection.Find(Query.Between("_id", first, last)).ToList())
        {
            collection.Delete(doc["_id"]);
            _state.Bytes[(int)lane] -= EntrySize(doc["s"].AsString, doc["p"].AsBinary.Length);
            _state.Counts[(int)lane]--;
            removed++;
        }

        return removed;
    }

    private void InsertDeadLetter(DeadLetter letter)
    {
        var preview = letter.Payload.Length > PreviewBytes ? letter.Payload[..PreviewBytes] : letter.Payload;
        _deadLetters.Insert(new BsonDocument
        {
            ["_id"] = ++_state.DeadLetterLastId,
            ["t"] = letter.ReceivedAt.UtcTicks,
            ["c"] = letter.ClientId,
            ["tp"] = letter.Topic,
            ["rc"] = letter.ReasonCode,
            ["r"] = letter.Reason,
            ["n"] = letter.Payload.Length,
            ["p"] = preview.ToArray(),
        });
        _state.DeadLetterCount++;
        if (_state.DeadLetterCount > _options.DeadLetterCapacity)
        {
            var excess = (int)(_state.DeadLetterCount - _options.DeadLetterCapacity);
            foreach (var old in _deadLetters.Find(Query.All(), 0, excess).ToList())
            {
                _deadLetters.Delete(old["_id"]);
                _state.DeadLetterCount--;
            }
        }
    }

    private void Sync()
    {
        if (!_options.SyncOnCommit)
        {
            return;
        }

        // LiteDB creates its log file on the first write after open; sync the directory once it appears.
        if (_logSync is null)
        {
            _logSync = FileSync.TryOpen(_logPath);
            if (_logSync is null)
            {
                return; // Nothing was written to a log: the commit went straight to the data file at checkpoint.
            }

            FileSync.SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_logPath))!);
        }

        _logSync.Sync();
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
            var state = new State { Epoch = NewEpoch() };
            _meta.Insert(state.ToDocument(MetaId, gatewayId));
            return state;
        }

        var owner = doc["gw"].AsString;
        if (!string.Equals(owner, gatewayId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The journal {Path} belongs to gateway '{owner}', but Agent:GatewayId is '{gatewayId}'. " +
                "Its entries carry that identity; let it drain under the old id, or move the file aside, before changing the id.");
        }

        return State.FromDocument(doc);
    }

    private void LoadDuplicateWindow(int window)
    {
        if (window == 0)
        {
            return;
        }

        // Only the tail: reading it by descending _id costs the same with 10 entries or 10 million.
        var tail = new List<BsonDocument>();
        foreach (var lane in _lanes)
        {
            tail.AddRange(lane.Find(Query.All(Query.Descending), 0, window / 2));
        }

        foreach (var doc in tail.OrderBy(d => d["_id"].AsInt64))
        {
            _duplicates.Add(doc["s"].AsString, doc["t"].AsInt64, DuplicateFilter.Hash(doc["p"].AsBinary));
        }
    }

    private static JournalEntry ToEntry(BsonDocument doc, Lane lane)
    {
        var offset = TimeSpan.FromMinutes(doc["o"].AsInt32);
        return new JournalEntry(
            doc["_id"].AsInt64,
            doc["s"].AsString,
            (DeviceKind)doc["k"].AsInt32,
            lane,
            new DateTimeOffset(doc["t"].AsInt64 + offset.Ticks, offset),
            new DateTimeOffset(doc["r"].AsInt64, TimeSpan.Zero),
            doc["p"].AsBinary);
    }

    private static long EntrySize(string serial, int payloadLength) => payloadLength + serial.Length + EntryOverheadBytes;

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

    private sealed class DeadLetterOp(DeadLetter letter) : WriteOp
    {
        public DeadLetter Letter { get; } = letter;

        public override void Complete()
        {
        }

        public override void Fail(Exception error)
        {
        }
    }

    // Counters kept in one meta document, updated in the same transaction as the entries they count,
    // so they are exact after a crash without scanning the journal.
    private sealed class State
    {
        public long Epoch { get; init; }

        public long LastSequence { get; set; }

        public long[] Bytes { get; init; } = new long[2];

        public long[] Counts { get; init; } = new long[2];

        public Dictionary<string, long> Shed { get; init; } = new(StringComparer.Ordinal);

        public long DeadLetterCount { get; set; }

        public long DeadLetterLastId { get; set; }

        public long UsedBytes => Bytes[0] + Bytes[1];

        public State Clone() => new()
        {
            Epoch = Epoch,
            LastSequence = LastSequence,
            Bytes = (long[])Bytes.Clone(),
            Counts = (long[])Counts.Clone(),
            Shed = new Dictionary<string, long>(Shed, StringComparer.Ordinal),
            DeadLetterCount = DeadLetterCount,
            DeadLetterLastId = DeadLetterLastId,
        };

        public BsonDocument ToDocument(string id, string gatewayId)
        {
            var shed = new BsonDocument();
            foreach (var (reason, count) in Shed)
            {
                shed[reason] = count;
            }

            return new BsonDocument
            {
                ["_id"] = id,
                ["gw"] = gatewayId,
                ["epoch"] = Epoch,
                ["seq"] = LastSequence,
                ["ub"] = Bytes[0],
                ["rb"] = Bytes[1],
                ["uc"] = Counts[0],
                ["rc"] = Counts[1],
                ["shed"] = shed,
                ["dlc"] = DeadLetterCount,
                ["dlid"] = DeadLetterLastId,
            };
        }

        public static State FromDocument(BsonDocument doc)
        {
            var state = new State
            {
                Epoch = doc["epoch"].AsInt64,
                LastSequence = doc["seq"].AsInt64,
                Bytes = [doc["ub"].AsInt64, doc["rb"].AsInt64],
                Counts = [doc["uc"].AsInt64, doc["rc"].AsInt64],
                DeadLetterCount = doc["dlc"].AsInt64,
                DeadLetterLastId = doc["dlid"].AsInt64,
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
            DeadLetterCount);
    }
}

/// <summary>Journal counters as of the last commit.</summary>
public sealed record JournalSnapshot(
    long Epoch,
    long LastSequence,
    long QuotaBytes,
    long UsedBytes,
    long[] EntriesPerLane,
    long[] BytesPerLane,
    IReadOnlyDictionary<string, long> ShedByReason,
    long DeadLetters);
