using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>
/// Refused messages kept for <c>edgectl deadletters list</c>: each one bounded (a topic, reason and client id of at most
/// <see cref="DeadLetterTextChars"/> characters, a payload preview of at most <see cref="DeadLetterPreviewBytes"/>), all of
/// them within a budget of their own (<see cref="JournalOptions.DeadLetterCapacity"/> letters and
/// <see cref="JournalOptions.DeadLetterMaxBytes"/> bytes, the oldest evicted and counted), outside the quota, so they
/// never push out a reading. Between the ingest path and the writer, at most <see cref="MaxQueuedDeadLetters"/> wait;
/// more are dropped and counted rather than queued.
/// </summary>
internal sealed partial class ReadingJournal
{
    /// <summary>The most of a refused payload kept.</summary>
    public const int DeadLetterPreviewBytes = 4096;

    /// <summary>The most characters of a refused message's topic, reason and client id kept.</summary>
    public const int DeadLetterTextChars = 256;

    /// <summary>
    /// Dead letters waiting for the writer. Each holds at most ~5 KiB, so the queue holds at most ~5 MiB; a device past
    /// <c>Agent:Broker:MaxRefusals</c> is disconnected long before it could fill it alone.
    /// </summary>
    public const int MaxQueuedDeadLetters = 1000;

    private long _queuedDeadLetters;
    private long _deadLettersDropped;

    /// <summary>Refused messages not kept because <see cref="MaxQueuedDeadLetters"/> were already waiting.</summary>
    public long DeadLettersDropped => Interlocked.Read(ref _deadLettersDropped);

    /// <summary>
    /// Keeps a refused message, truncated (see the class comment). Written with the next group commit.
    /// <paramref name="payloadBytes"/> is the whole payload's length when <paramref name="letter"/> carries only its preview.
    /// </summary>
    public void AddDeadLetter(DeadLetter letter, int? payloadBytes = null)
    {
        if (Interlocked.Increment(ref _queuedDeadLetters) > MaxQueuedDeadLetters)
        {
            Interlocked.Decrement(ref _queuedDeadLetters);
            Interlocked.Increment(ref _deadLettersDropped);
            return;
        }

        var kept = letter with
        {
            ClientId = Truncate(letter.ClientId),
            Topic = Truncate(letter.Topic),
            ReasonCode = Truncate(letter.ReasonCode),
            Reason = Truncate(letter.Reason),
            Payload = letter.Payload.Length > DeadLetterPreviewBytes ? letter.Payload[..DeadLetterPreviewBytes].ToArray() : letter.Payload,
        };
        if (!_ops.TryAdd(new DeadLetterOp(this, kept, payloadBytes ?? letter.Payload.Length)))
        {
            Interlocked.Decrement(ref _queuedDeadLetters);
        }
    }

    /// <summary>The newest dead letters first.</summary>
    public IReadOnlyList<(long Id, DeadLetter Letter, int PayloadBytes)> ListDeadLetters(int limit)
    {
        var list = new List<(long, DeadLetter, int)>();
        List<BsonDocument> docs;
        lock (_dbGate)
        {
            docs = _deadLetters.Find(Query.All(Query.Descending), 0, limit).ToList();
        }

        foreach (var doc in docs)
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

    private static string Truncate(string text) => text.Length <= DeadLetterTextChars ? text : text[..DeadLetterTextChars];

    // What a dead letter counts against its budget: the preview and the text (UTF-16, as held) plus the entry overhead.
    private static long DeadLetterSize(BsonDocument doc) => doc.TryGetValue("z", out var size)
        ? size.AsInt64
        : doc["p"].AsBinary.Length + 2L * (doc["c"].AsString.Length + doc["tp"].AsString.Length + doc["rc"].AsString.Length + doc["r"].AsString.Length) + EntryOverheadBytes;

    // Runs inside the group's transaction on the writer thread (CommitGroupLocked).
    private void InsertDeadLetter(DeadLetterOp op)
    {
        var letter = op.Letter;
        var doc = new BsonDocument
        {
            ["_id"] = ++_state.DeadLetterLastId,
            ["t"] = letter.ReceivedAt.UtcTicks,
            ["c"] = letter.ClientId,
            ["tp"] = letter.Topic,
            ["rc"] = letter.ReasonCode,
            ["r"] = letter.Reason,
            ["n"] = op.PayloadBytes,
            ["p"] = letter.Payload.ToArray(),
        };
        var size = DeadLetterSize(doc);
        doc["z"] = size;
        _deadLetters.Insert(doc);
        _state.DeadLetterCount++;
        _state.DeadLetterBytes += size;

        // Oldest first, a few at a time: one insert evicts one or two letters once the budget is reached.
        while (_state.DeadLetterCount > _options.DeadLetterCapacity || _state.DeadLetterBytes > _options.DeadLetterMaxBytes)
        {
            var oldest = _deadLetters.Find(Query.All(), 0, 8).ToList();
            if (oldest.Count == 0)
            {
                _state.DeadLetterCount = 0; // counters from a journal damaged by hand: the collection is the truth
                _state.DeadLetterBytes = 0;
                break;
            }

            foreach (var old in oldest)
            {
                if (_state.DeadLetterCount <= _options.DeadLetterCapacity && _state.DeadLetterBytes <= _options.DeadLetterMaxBytes)
                {
                    break;
                }

                _deadLetters.Delete(old["_id"]);
                _state.DeadLetterCount--;
                _state.DeadLetterBytes -= DeadLetterSize(old);
                _state.DeadLettersEvicted++;
            }
        }
    }

    // Journals from before the byte budget have no byte count: one pass over the (count-bounded) dead letters at open.
    private void LoadDeadLetterBytes()
    {
        if (_state.DeadLetterBytes >= 0)
        {
            return;
        }

        _state.DeadLetterBytes = _deadLetters.FindAll().Sum(DeadLetterSize);
    }

    private sealed class DeadLetterOp(ReadingJournal journal, DeadLetter letter, int payloadBytes) : WriteOp
    {
        public DeadLetter Letter { get; } = letter;

        public int PayloadBytes { get; } = payloadBytes;

        public override void Complete() => Interlocked.Decrement(ref journal._queuedDeadLetters);

        // The letter is lost with its group (a failed commit); it leaves the queue all the same.
        public override void Fail(Exception error) => Interlocked.Decrement(ref journal._queuedDeadLetters);
    }
}
