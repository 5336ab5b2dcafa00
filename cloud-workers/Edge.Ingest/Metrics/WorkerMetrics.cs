using System.Diagnostics.Metrics;
using Edge.Contracts.Devices;
using Edge.Hosting.Metrics;
using Edge.Storage.Quarantine;

namespace Edge.Ingest.Metrics;

/// <summary>
/// What the ingest worker does, for Prometheus (<c>edge_worker_*</c>, docs/runbooks/monitoring.md): batches stored
/// and dead-lettered, readings by kind and result, how long a batch takes and how late readings arrive, store
/// failures, broker connections, webhook attempts and downlink sends.
/// </summary>
/// <remarks>
/// A hosted service only so that, once the collector listens (every hosted service is built before any starts), the
/// series an alert watches exist at zero: a series that first appears at 1 shows no increase.
/// </remarks>
internal sealed class WorkerMetrics : IHostedService, IDisposable
{
    public const string Stored = "stored";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
    public const string StoreRefused = "store_refused";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Dead = "dead";
    public const string Sent = "sent";

    /// <summary>Batch durations in milliseconds: a store write takes a few; an outage waited out, minutes.</summary>
    private static readonly double[] MillisecondBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000];

    /// <summary>Reading delays in seconds: under a second when the link is up; hours after a clinic's outage.</summary>
    private static readonly double[] SecondBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400];

    private static readonly string[] Lanes = ["routine", "urgent"];
    private static readonly string[] Kinds = [.. Enum.GetValues<DeviceKind>().Select(KindName).Distinct()];

    private readonly Counter<long> _batches;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _readings;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _readingDelay;
    private readonly Counter<long> _storeFailures;
    private readonly Counter<long> _webhookAttempts;
    private readonly Counter<long> _alertsRaised;
    private readonly Counter<long> _downlinkMessages;
    private readonly Counter<long> _reportsRefused;

    private readonly Counter<long> _quarantined;
    private readonly Counter<long> _released;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _laneMismatches;
    private readonly Counter<long> _notOwned;
    private readonly Counter<long> _heartbeats;
    private int _brokerConnections;

    public WorkerMetrics(TimeProvider time)
    {
        ProcessInfoMetrics.Add(Meter, "edge.worker", ProcessInfoMetrics.VersionOf(typeof(WorkerMetrics).Assembly), time);
        _batches = Meter.CreateCounter<long>("edge.worker.batches", "{batch}", "Gateway batches stored and acknowledged, by lane");
        _deadLetters = Meter.CreateCounter<long>("edge.worker.dead_letters", "{message}", "Gateway messages that could not be read and were dead-lettered (ingest_dead_letters)");
        _readings = Meter.CreateCounter<long>("edge.worker.readings", "{reading}", "Readings in stored batches, by device kind and result (stored, duplicate, rejected, store_refused)");
        _batchDuration = Meter.CreateHistogram("edge.worker.batch.duration", "ms", "From a batch's arrival to its acknowledgement, store retries included",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MillisecondBuckets });
        _readingDelay = Meter.CreateHistogram("edge.worker.reading.delay", "s", "From the gateway receiving a reading to its store committing it, by lane",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        _storeFailures = Meter.CreateCounter<long>("edge.worker.store.failures", "{attempt}", "Attempts to store a batch that failed and will be retried (a store unavailable)");
        Meter.CreateObservableGauge("edge.worker.broker.connections", () => Volatile.Read(ref _brokerConnections), "{connection}", "MQTT connections to the cloud broker that are up");
        _webhookAttempts = Meter.CreateCounter<long>("edge.worker.webhook.attempts", "{attempt}", "Webhook delivery attempts, by outcome (delivered, failed, dead)");
        _alertsRaised = Meter.CreateCounter<long>("edge.worker.alerts.raised", "{alert}", "Alerts raised for the first time, by rule (batches and the sweep; re-sends and other replicas count nothing)");
        _reportsRefused = Meter.CreateCounter<long>("edge.worker.reports.refused", "{report}",
            "Gateway reports not recorded because of what S3 holds or the key named, by reason (not_pdf, checksum, size, missing, key)");
        _downlinkMessages = Meter.CreateCounter<long>("edge.worker.downlink.messages", "{message}", "Configs and firmware offers sent to gateways, by type and outcome (sent, failed)");
        _quarantined = Meter.CreateCounter<long>("edge.worker.quarantine.held", "{reading}", "Readings held in the quarantine instead of a store, by reason");
        _released = Meter.CreateCounter<long>("edge.worker.quarantine.released", "{reading}", "Quarantined readings released into their store once their device was registered to the gateway that sent them");
        _expired = Meter.CreateCounter<long>("edge.worker.quarantine.expired", "{reading}", "Quarantined readings deleted unclaimed after the quarantine window");
        _laneMismatches = Meter.CreateCounter<long>("edge.worker.lane.mismatches", "{reading}", "Readings whose gateway lane differs from the worker's classification, by the lane the gateway claimed");
        _heartbeats = Meter.CreateCounter<long>("edge.worker.heartbeats", "{heartbeat}",
            "Gateway heartbeats by outcome: recorded, stale (a newer one is recorded), or refused (invalid, another gateway's id, unregistered gateway)");
        _notOwned = Meter.CreateCounter<long>("edge.worker.not_owned.refusals", "{message}", "Report records and upload requests refused because the serial is not the sending gateway's, by message");
    }

    public Meter Meter { get; } = new("ClinicEdge.Worker");

    /// <summary>
    /// The <c>kind</c> label: the store a device kind writes to. CPAP and BiPAP share one store and one write (so one
    /// count of new and duplicate rows), so both are <c>cpap</c>.
    /// </summary>
    public static string KindName(DeviceKind kind) => kind == DeviceKind.Bipap ? "cpap" : kind.ToString().ToLowerInvariant();

    public void BatchStored(string lane, TimeSpan duration)
    {
        _batches.Add(1, new KeyValuePair<string, object?>("lane", lane));
        _batchDuration.Record(duration.TotalMilliseconds);
    }

    public void DeadLettered() => _deadLetters.Add(1);

    public void Readings(string kind, string result, int count)
    {
        if (count > 0)
        {
            _readings.Add(count, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));
        }
    }

    public void ReadingDelay(string lane, TimeSpan delay) =>
        _readingDelay.Record(Math.Max(0, delay.TotalSeconds), new KeyValuePair<string, object?>("lane", lane));

    public void StoreFailed() => _storeFailures.Add(1);

    public void Quarantined(string reason, int count)
    {
        if (count > 0)
        {
            _quarantined.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void Released(int count) => _released.Add(count);

    public void Expired(int count) => _expired.Add(count);

    public void LaneMismatch(string claimed, int count)
    {
        if (count > 0)
        {
            _laneMismatches.Add(count, new KeyValuePair<string, object?>("claimed", claimed));
        }
    }

    /// <summary>A report record (<c>report</c>) or upload request (<c>upload</c>) refused for a serial the gateway does not own.</summary>
    public void NotOwned(string message) => _notOwned.Add(1, new KeyValuePair<string, object?>("message", message));

    /// <summary>The <c>outcome</c> labels of <c>edge_worker_heartbeats_total</c>.</summary>
    public static readonly string[] HeartbeatOutcomes = ["recorded", "stale", "refused"];

    public void Heartbeat(string outcome) => _heartbeats.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void BrokerConnected() => Interlocked.Increment(ref _brokerConnections);

    public void BrokerDisconnected() => Interlocked.Decrement(ref _brokerConnections);

    /// <summary>Counts alerts recorded for the first time (subscribed to <see cref="Edge.Storage.Alerts.AlertRecorder.Raised"/>).</summary>
    public void AlertsRaised(IReadOnlyList<Edge.Storage.Alerts.Alert> alerts)
    {
        foreach (var alert in alerts)
        {
            _alertsRaised.Add(1, new KeyValuePair<string, object?>("rule", alert.Rule));
        }
    }

    public void WebhookAttempt(string outcome) => _webhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void DownlinkMessage(bool firmware, string outcome) =>
        _downlinkMessages.Add(1, new KeyValuePair<string, object?>("type", firmware ? "firmware" : "config"), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>The <c>reason</c> labels of <see cref="ReportRefused"/>.</summary>
    public static readonly string[] ReportRefusalReasons = ["not_pdf", "checksum", "size", "missing", "key"];

    public void ReportRefused(string reason) => _reportsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var reason in ReportRefusalReasons)
        {
            _reportsRefused.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        foreach (var lane in Lanes)
        {
            _batches.Add(0, new KeyValuePair<string, object?>("lane", lane));
        }

        foreach (var kind in Kinds)
        {
            foreach (var result in new[] { Stored, Duplicate, Rejected })
            {
                _readings.Add(0, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));
            }
        }

        _readings.Add(0, new KeyValuePair<string, object?>("kind", "unknown"), new KeyValuePair<string, object?>("result", Rejected));
        foreach (var outcome in new[] { Delivered, Failed, Dead })
        {
            _webhookAttempts.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        foreach (var rule in Edge.Storage.Alerts.AlertRuleNames.All)
        {
            _alertsRaised.Add(0, new KeyValuePair<string, object?>("rule", rule));
        }

        foreach (var reason in QuarantineReasons.All)
        {
            _quarantined.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        _released.Add(0);
        foreach (var outcome in HeartbeatOutcomes)
        {
            _heartbeats.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        _expired.Add(0);
        foreach (var lane in Lanes)
        {
            _laneMismatches.Add(0, new KeyValuePair<string, object?>("claimed", lane));
        }

        foreach (var message in new[] { "report", "upload" })
        {
            _notOwned.Add(0, new KeyValuePair<string, object?>("message", message));
        }

        foreach (var type in new[] { "config", "firmware" })
        {
            foreach (var outcome in new[] { Sent, Failed })
            {
                _downlinkMessages.Add(0, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("outcome", outcome));
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => Meter.Dispose();
}
