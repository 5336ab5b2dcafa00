using System.Diagnostics.Metrics;

namespace Edge.Agent.Renewal;

/// <summary>The uplink certificate's expiry and the renewal's progress, for the admin status and the metrics.</summary>
internal sealed class RenewalState : IDisposable
{
    /// <summary>Renewal states as the status shows them.</summary>
    public const string NotConfigured = "not configured", Waiting = "waiting", Renewing = "renewing", Failing = "failing";

    private readonly Lock _gate = new();
    private readonly Meter _meter = new("ClinicEdge.Agent.Renewal");
    private readonly TimeProvider _time;
    private DateTimeOffset? _notAfter;
    private DateTimeOffset? _renewAt;
    private string _state = NotConfigured;
    private string? _lastError;
    private DateTimeOffset? _lastRenewedAt;
    private long _renewals;
    private long _failures;

    public RenewalState(TimeProvider time)
    {
        _time = time;
        _meter.CreateObservableGauge("edge.uplink.certificate.expiry", Expiry, unit: "s",
            description: "Seconds until the uplink client certificate expires (absent without one)");
        _meter.CreateObservableGauge("edge.uplink.certificate.renewal_failing", () => State == Failing ? 1 : 0,
            description: "1 while the last renewal attempt failed");
        _meter.CreateObservableCounter("edge.uplink.certificate.renewals", () => Renewals, description: "Certificates renewed since start");
        _meter.CreateObservableCounter("edge.uplink.certificate.renewal_failures", () => Failures, description: "Failed renewal attempts since start");
    }

    public Meter Meter => _meter;

    public DateTimeOffset? NotAfter { get { lock (_gate) { return _notAfter; } } }

    public DateTimeOffset? RenewAt { get { lock (_gate) { return _renewAt; } } }

    public string State { get { lock (_gate) { return _state; } } }

    public string? LastError { get { lock (_gate) { return _lastError; } } }

    public DateTimeOffset? LastRenewedAt { get { lock (_gate) { return _lastRenewedAt; } } }

    public long Renewals => Interlocked.Read(ref _renewals);

    public long Failures => Interlocked.Read(ref _failures);

    public double? ExpirySeconds => NotAfter is { } notAfter ? (notAfter - _time.GetUtcNow()).TotalSeconds : null;

    // Absent rather than a made-up number when the uplink has no client certificate.
    private IEnumerable<Measurement<double>> Expiry() => ExpirySeconds is { } seconds ? [new Measurement<double>(seconds)] : [];

    public void Observe(DateTimeOffset notAfter, DateTimeOffset renewAt, bool renewing)
    {
        lock (_gate)
        {
            _notAfter = notAfter;
            _renewAt = renewAt;
            _state = !renewing ? NotConfigured : _state == Failing ? Failing : Waiting;
        }
    }

    public void Started()
    {
        lock (_gate)
        {
            _state = _state == Failing ? Failing : Renewing;
        }
    }

    public void Renewed(DateTimeOffset notAfter)
    {
        Interlocked.Increment(ref _renewals);
        lock (_gate)
        {
            _notAfter = notAfter;
            _state = Waiting;
            _lastError = null;
            _lastRenewedAt = _time.GetUtcNow();
        }
    }

    public void Failed(string error)
    {
        Interlocked.Increment(ref _failures);
        lock (_gate)
        {
            _state = Failing;
            _lastError = error;
        }
    }

    public void Dispose() => _meter.Dispose();
}
