using Edge.Contracts.Devices;
using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>Reads: entries of a lane in sequence order (from LiteDB, then from memory in write-ahead mode), and their age.</summary>
internal sealed partial class ReadingJournal
{
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

    private static JournalEntry ToEntry(SegmentEntry entry, Lane lane) => new(
        entry.Sequence,
        entry.Serial,
        SerialNumber.Parse(entry.Serial).Kind,
        lane,
        new DateTimeOffset(entry.DeviceTicks, TimeSpan.Zero),
        new DateTimeOffset(entry.ReceivedTicks, TimeSpan.Zero),
        entry.Payload);
}
