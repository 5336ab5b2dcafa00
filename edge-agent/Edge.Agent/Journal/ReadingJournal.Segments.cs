using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>Segments: staging a group's entries into segment documents, reading segments from a sequence, and removing acknowledged entries.</summary>
internal sealed partial class ReadingJournal
{
    // A segment is closed at 64 KiB of payload (~300 seed-sized readings): a live group commit fits in one, and a
    // sender reading 2,000 readings or an ack deleting them touches a few small documents. At 1 MiB, every read
    // decoded ~5,000 readings to return 2,000 and every ack rewrote the rest of the segment; above ~80 KiB, every
    // segment read or written is a large-object-heap array, which only a full GC frees (docs/performance.md).
    private const int MaxSegmentPayloadBytes = 64 * 1024;

    private readonly List<SegmentEntry>[] _staged = [[], []];
    private readonly long[] _stagedBytes = new long[2];

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
}
