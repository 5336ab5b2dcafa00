using System.Diagnostics.Metrics;

namespace Edge.Agent.Uplink;

/// <summary>What the uplink is doing, for the admin status and System.Diagnostics.Metrics.</summary>
internal sealed class UplinkState(TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Meter _meter = new("ClinicEdge.Agent.Uplink");
    private long _ackedReadings;
    private long _sentBatches;
    private long _resentBatches;
    private long _deadLetteredBatches;
    private readonly long[] _refusedAcks = new long[AckRefusals.All.Length];
    private readonly long[] _dropped = new long[DropReasons.All.Length];
    private long _refusedUploadUrls;
    private long _heartbeatsSent;
    private DateTimeOffset? _lastHeartbeatAt;
    private double _ackRate;
    private DateTimeOffset? _lastAckAt;
    private bool _connected;
    private int _inFlight;

    public bool Connected => _connected;

    public int InFlight => _inFlight;

    public long AckedReadings => Interlocked.Read(ref _ackedReadings);

    public long SentBatches => Interlocked.Read(ref _sentBatches);

    public long ResentBatches => Interlocked.Read(ref _resentBatches);

    public long DeadLetteredBatches => Interlocked.Read(ref _deadLetteredBatches);

    public DateTimeOffset? LastAckAt => _lastAckAt;

    /// <summary>Commit acks refused since the start, all reasons together.</summary>
    public long RefusedAcks
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _refusedAcks.Length; i++)
            {
                sum += Interlocked.Read(ref _refusedAcks[i]);
            }

            return sum;
        }
    }

    /// <summary>Readings acknowledged per second, smoothed over roughly the last ten seconds.</summary>
    public double AckRate
    {
        get
        {
            lock (_gate)
            {
                // Decay towards zero when no ack has come for a while, so a stalled uplink does not promise an ETA.
                if (_lastAckAt is { } last && time.GetUtcNow() - last > TimeSpan.FromSeconds(30))
                {
                    return 0;
                }

                return _ackRate;
            }
        }
    }

    internal void Update(bool connected, int inFlight)
    {
        _connected = connected;
        _inFlight = inFlight;
    }

    internal void RecordSent(bool resend)
    {
        Interlocked.Increment(ref _sentBatches);
        if (resend)
        {
            Interlocked.Increment(ref _resentBatches);
        }
    }

    /// <summary>Upload answers refused because their URL is not the configured S3 endpoint.</summary>
    public long RefusedUploadUrls => Interlocked.Read(ref _refusedUploadUrls);

    /// <summary>Heartbeats the cloud broker accepted since the start.</summary>
    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    /// <summary>When the last heartbeat the broker accepted was built.</summary>
    public DateTimeOffset? LastHeartbeatAt
    {
        get
        {
            lock (_gate)
            {
                return _lastHeartbeatAt;
            }
        }
    }

    internal void RecordHeartbeat(DateTimeOffset at)
    {
        Interlocked.Increment(ref _heartbeatsSent);
        lock (_gate)
        {
            _lastHeartbeatAt = at;
        }
    }

    internal void RecordUploadUrlRefused() => Interlocked.Increment(ref _refusedUploadUrls);

    /// <summary>Readings that left the journal without being stored in the cloud, by <see cref="DropReasons"/>.</summary>
    public long Dropped(string reason) => Interlocked.Read(ref _dropped[Array.IndexOf(DropReasons.All, reason)]);

    internal void RecordDropped(string reason, long readings) => Interlocked.Add(ref _dropped[Array.IndexOf(DropReasons.All, reason)], readings);

    internal void RecordAckRefused(string reason) => Interlocked.Increment(ref _refusedAcks[Array.IndexOf(AckRefusals.All, reason)]);

    internal void RecordAck(int readings, bool deadLettered)
    {
        Interlocked.Add(ref _ackedReadings, readings);
        if (deadLettered)
        {
            Interlocked.Increment(ref _deadLetteredBatches);
        }

        lock (_gate)
        {
            var now = time.GetUtcNow();
            var seconds = _lastAckAt is { } last ? Math.Max((now - last).TotalSeconds, 0.001) : 1;
            var instant = readings / seconds;
            var weight = Math.Min(1, seconds / 10);
            _ackRate = (_ackRate * (1 - weight)) + (instant * weight);
            _lastAckAt = now;
        }
    }

    /// <summary>The uplink's meter, for the agent's metrics collector.</summary>
    public Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();

    internal void RegisterGauges(Func<long> backlog)
    {
        _meter.CreateObservableGauge("edge.uplink.connected", () => _connected ? 1 : 0, description: "1 while the link to the cloud is up");
        _meter.CreateObservableGauge("edge.uplink.in_flight", () => _inFlight, description: "Batches sent and awaiting the cloud's ack");
        _meter.CreateObservableCounter("edge.uplink.acked_readings", () => AckedReadings, description: "Readings the cloud acknowledged as stored");
        _meter.CreateObservableCounter("edge.uplink.resent_batches", () => ResentBatches, description: "Batches sent again after no ack");
        // Every reason reads 0 from the start, so an alert's increase() sees the first refusal.
        _meter.CreateObservableCounter("edge.uplink.acks_refused", () => AckRefusals.All.Select((reason, i) =>
            new Measurement<long>(Interlocked.Read(ref _refusedAcks[i]), new KeyValuePair<string, object?>("reason", reason))),
            description: "Commit acks refused (nothing deleted): for another epoch, an unknown lane, or readings the gateway never published");
        _meter.CreateObservableCounter("edge.uplink.readings_dead_lettered", () => DropReasons.All.Select((reason, i) =>
            new Measurement<long>(Interlocked.Read(ref _dropped[i]), new KeyValuePair<string, object?>("reason", reason))),
            description: "Readings removed from the journal without being stored: set aside on the gateway (too_large_for_uplink) or dead-lettered by a worker (dead_lettered_in_cloud)");
        _meter.CreateObservableCounter("edge.uplink.upload_urls_refused", () => RefusedUploadUrls,
            description: "Report upload answers refused because their URL is not Agent:Reports:UploadEndpoint (nothing was sent)");
        _meter.CreateObservableCounter("edge.uplink.heartbeats_sent", () => HeartbeatsSent,
            description: "Heartbeats the cloud broker accepted (edge/v1/{gatewayId}/heartbeat)");
        _meter.CreateObservableGauge("edge.uplink.backlog", backlog, description: "Readings in the journal not yet acknowledged by the cloud");
    }
}

/// <summary>Why a commit ack was refused: the <c>reason</c> label of <c>edge_uplink_acks_refused_total</c>.</summary>
internal static class AckRefusals
{
    /// <summary>The ack names another epoch (another journal file of this gateway, or a forgery).</summary>
    public const string Epoch = "epoch";

    /// <summary>The ack names a lane that is neither urgent nor routine.</summary>
    public const string Lane = "lane";

    /// <summary>The ack's range is empty, starts below 1, or reaches readings this epoch never published.</summary>
    public const string Unpublished = "unpublished";

    public static readonly string[] All = [Epoch, Lane, Unpublished];
}

/// <summary>Why a reading left the journal without being stored: the <c>reason</c> label of <c>edge_uplink_readings_dead_lettered_total</c>.</summary>
internal static class DropReasons
{
    /// <summary>No batch can carry it under Agent:Uplink:MaxBatchBytes; kept in the gateway's dead letters.</summary>
    public const string TooLargeForUplink = "too_large_for_uplink";

    /// <summary>A worker could not store it and acknowledged it as dead-lettered; the cloud keeps it.</summary>
    public const string DeadLetteredInCloud = "dead_lettered_in_cloud";

    public static readonly string[] All = [TooLargeForUplink, DeadLetteredInCloud];
}
