using System.Diagnostics.Metrics;
using Edge.Hosting.Metrics;

namespace Edge.Agent.Journal;

/// <summary>Metrics: the journal's meter, its group-commit statistics and the gauges of what waits.</summary>
internal sealed partial class ReadingJournal
{
    // Group-commit statistics, written by the writer only. Group size and fdatasync time are what a slow disk or a
    // changed load shows first; the meter gives listeners their distribution.
    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<int> _groupSize;
    private readonly Histogram<double> _syncDuration;
    private long _commits;
    private long _committedOperations;
    private long _syncTicks;

    /// <summary>The System.Diagnostics.Metrics meter of the journal's group commits.</summary>
    public const string MeterName = "ClinicEdge.Agent.Journal";

    /// <summary>Histogram boundaries for the agent's millisecond histograms: an fdatasync and a device's wait for its PUBACK.</summary>
    public static IReadOnlyList<double> MillisecondBuckets { get; } = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000];

    /// <summary>The journal's meter, for the agent's metrics collector.</summary>
    public Meter Meter => _meter;

    /// <summary>Group commits since the journal was opened: how many, how many operations they held, time in fdatasync.</summary>
    public CommitStatistics Commits => new(
        Interlocked.Read(ref _commits),
        Interlocked.Read(ref _committedOperations),
        TimeSpan.FromTicks(Interlocked.Read(ref _syncTicks)));

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
        _meter.CreateObservableCounter("edge.journal.wal_full", () => WriteAheadLogFull, description: "Group commits that found the write-ahead log full and waited for LiteDB's sync (Agent:Journal:WriteAheadLogBytes)");
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
}

/// <summary>Group commits since the journal was opened.</summary>
internal sealed record CommitStatistics(long Count, long Operations, TimeSpan SyncTime)
{
    public double OperationsPerCommit => Count == 0 ? 0 : (double)Operations / Count;

    public double SyncMillisecondsPerCommit => Count == 0 ? 0 : SyncTime.TotalMilliseconds / Count;
}
