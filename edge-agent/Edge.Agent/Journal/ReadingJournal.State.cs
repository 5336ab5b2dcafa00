using System.Security.Cryptography;
using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>The counters (<see cref="State"/>) kept in the meta document or carried by the last segment, loaded at open without a scan.</summary>
internal sealed partial class ReadingJournal
{
    private const string MetaId = "journal";

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

    // Random rather than a clock reading: gateways without a battery-backed clock boot in 1970.
    private static long NewEpoch() => RandomNumberGenerator.GetInt32(1, int.MaxValue) * 1_000_000L + RandomNumberGenerator.GetInt32(0, 1_000_000);

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
