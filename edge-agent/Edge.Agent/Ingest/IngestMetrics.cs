using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Edge.Agent.Ingest;

/// <summary>What the ingest path did, for the admin status and for System.Diagnostics.Metrics listeners.</summary>
public sealed class IngestMetrics : IDisposable
{
    public const string MeterName = "ClinicEdge.Agent";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _commitLatency;
    private readonly ConcurrentDictionary<string, long> _refusedByReason = new(StringComparer.Ordinal);
    private long _acceptedTotal;
    private long _duplicatesTotal;
    private long _refusedTotal;

    public IngestMetrics()
    {
        _accepted = _meter.CreateCounter<long>("edge.ingest.accepted", description: "Readings journaled and acknowledged");
        _refused = _meter.CreateCounter<long>("edge.ingest.refused", description: "Messages refused, by reason code");
        _duplicates = _meter.CreateCounter<long>("edge.ingest.duplicates", description: "Readings a device sent again after a lost PUBACK, acknowledged and not journaled twice");
        _commitLatency = _meter.CreateHistogram("edge.ingest.journal_latency", unit: "ms", description: "Publish received to journal commit",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Journal.ReadingJournal.MillisecondBuckets });
    }

    public Meter Meter => _meter;

    public long Accepted => Interlocked.Read(ref _acceptedTotal);

    public long Duplicates => Interlocked.Read(ref _duplicatesTotal);

    public long Refused => Interlocked.Read(ref _refusedTotal);

    public IReadOnlyDictionary<string, long> RefusedByReason => new Dictionary<string, long>(_refusedByReason, StringComparer.Ordinal);

    public void RecordAccepted(double journalMs)
    {
        Interlocked.Increment(ref _acceptedTotal);
        _accepted.Add(1);
        _commitLatency.Record(journalMs);
    }

    public void RecordDuplicate()
    {
        Interlocked.Increment(ref _duplicatesTotal);
        _duplicates.Add(1);
    }

    public void RecordRefused(string reasonCode)
    {
        Interlocked.Increment(ref _refusedTotal);
        _refusedByReason.AddOrUpdate(reasonCode, 1, static (_, n) => n + 1);
        _refused.Add(1, new KeyValuePair<string, object?>("reason", reasonCode));
    }

    public void Dispose() => _meter.Dispose();
}
