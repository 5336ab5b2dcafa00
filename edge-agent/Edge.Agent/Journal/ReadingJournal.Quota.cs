using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>The quota: what a reading costs against it, the append decision (duplicate, refused, shed to make room), and shedding.</summary>
internal sealed partial class ReadingJournal
{
    // Per-entry bytes counted against the quota on top of the payload: identity, times, BSON framing, index node.
    internal const int EntryOverheadBytes = 96;

    // Why routine readings are shed: the only reason there is, counted in ShedByReason and reported from the start.
    private const string QuotaShedReason = "quota";

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

    private void Account(Lane lane, long bytes, string? shedReason)
    {
        _state.Bytes[(int)lane] += bytes;
        _state.Counts[(int)lane] += Math.Sign(bytes);
        if (shedReason is not null)
        {
            _state.Shed[shedReason] = _state.Shed.GetValueOrDefault(shedReason) + 1;
        }
    }

    private static long EntrySize(string serial, int payloadLength) => payloadLength + serial.Length + EntryOverheadBytes;

    private static long EntrySize(SegmentEntry entry) => EntrySize(entry.Serial, entry.Payload.Length);
}
