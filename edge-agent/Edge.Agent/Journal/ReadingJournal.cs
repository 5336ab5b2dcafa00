using System.Diagnostics.Metrics;
using Edge.Agent.Journal.WriteAhead;
using LiteDB;
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
    private static readonly string[] LaneCollections = ["urgent", "routine"];

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument>[] _lanes;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly ILiteCollection<BsonDocument> _deadLetters;

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

    private readonly Task _writer;
    private State _state;
    private volatile JournalSnapshot _snapshot;

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

    /// <summary>Counters as of the last commit (cheap; no database access).</summary>
    public JournalSnapshot Snapshot => _snapshot;

    /// <summary>
    /// Completes with the error if the journal can no longer promise durability (an fdatasync failed: after EIO the
    /// page cache cannot be trusted). The host stops on it so the service restarts and reopens what is on disk.
    /// </summary>
    public Task Faulted => _faulted.Task;
}
