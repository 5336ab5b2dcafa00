using Edge.Agent.Journal;
using Edge.Contracts.Admin;

namespace Edge.Agent.Uplink;

/// <summary>Since the start, everything that left the gateway without reaching a store, by reason: for the status and the heartbeat.</summary>
internal static class NotStoredCounts
{
    public static Dictionary<string, long> Now(ReadingJournal journal, UplinkState uplink)
    {
        var snapshot = journal.Snapshot;
        return new Dictionary<string, long>
        {
            [NotStoredReasons.Shed] = snapshot.ShedByReason.Values.Sum(),
            [NotStoredReasons.TooLargeForUplink] = uplink.Dropped(DropReasons.TooLargeForUplink),
            [NotStoredReasons.DeadLetteredInCloud] = uplink.Dropped(DropReasons.DeadLetteredInCloud),
            [NotStoredReasons.DeadLettersEvicted] = snapshot.DeadLettersEvicted,
            [NotStoredReasons.DeadLettersDropped] = journal.DeadLettersDropped,
        };
    }
}
