using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Edge.Hosting.Metrics;
using MQTTnet.Protocol;

namespace Edge.Agent.Ingest;

/// <summary>What the ingest path did, for the admin status and for System.Diagnostics.Metrics listeners.</summary>
internal sealed class IngestMetrics : IDisposable
{
    public const string MeterName = "ClinicEdge.Agent";

    private readonly Meter _meter = new(MeterName);
    // The refusal codes the ingest path answers with, reported at zero before the first of each (CountsByTag).
    private static readonly string[] RefusalCodes =
    [
        nameof(MqttPubAckReasonCode.NotAuthorized),
        nameof(MqttPubAckReasonCode.TopicNameInvalid),
        nameof(MqttPubAckReasonCode.PayloadFormatInvalid),
        nameof(MqttPubAckReasonCode.QuotaExceeded),
        nameof(MqttPubAckReasonCode.ImplementationSpecificError),
    ];

    private readonly Histogram<double> _commitLatency;
    private readonly ConcurrentDictionary<string, long> _refusedByReason = new(StringComparer.Ordinal);
    private long _acceptedTotal;
    private long _duplicatesTotal;
    private long _refusedTotal;

    public IngestMetrics()
    {
        // Observable: read from the totals the status also shows, so a listener that starts late misses nothing.
        _meter.CreateObservableCounter("edge.ingest.accepted", () => Accepted, description: "Readings journaled and acknowledged");
        _meter.CreateObservableCounter("edge.ingest.refused", () => CountsByTag.Measure(RefusedByReason, RefusalCodes, "reason"), description: "Messages refused, by reason code");
        _meter.CreateObservableCounter("edge.ingest.duplicates", () => Duplicates, description: "Readings a device sent again after a lost PUBACK, acknowledged and not journaled twice");
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
        _commitLatency.Record(journalMs);
    }

    public void RecordDuplicate()
    {
        Interlocked.Increment(ref _duplicatesTotal);
    }

    public void RecordRefused(string reasonCode)
    {
        Interlocked.Increment(ref _refusedTotal);
        _refusedByReason.AddOrUpdate(reasonCode, 1, static (_, n) => n + 1);
    }

    public void Dispose() => _meter.Dispose();
}
