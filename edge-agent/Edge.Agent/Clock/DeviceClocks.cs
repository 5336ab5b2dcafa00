using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Clock;

/// <summary>
/// Compares each reading's device time with the moment the gateway received it. Beyond
/// <see cref="ClockOptions.MaxSkewSeconds"/> the reading is still stored but counted as skewed, per device; beyond
/// <see cref="ClockOptions.MaxAheadSeconds"/> into the future it is refused, while the gateway trusts its own clock.
/// </summary>
internal sealed class DeviceClocks : IDisposable
{
    public const string MeterName = "ClinicEdge.Agent.Clock";

    private readonly ClockOptions _options;
    private readonly GatewaySyncState _gateway;
    private readonly Meter _meter = new(MeterName);
    // One entry per device that has sent a reading: bounded by the devices with a credential.
    private readonly ConcurrentDictionary<string, DeviceClock> _devices = new(StringComparer.Ordinal);
    private long _skewed;
    private long _refused;

    public DeviceClocks(IOptions<ClockOptions> options, GatewaySyncState gateway)
    {
        _options = options.Value;
        _gateway = gateway;
        _meter.CreateObservableCounter("edge.ingest.clock_skewed_readings", () => Interlocked.Read(ref _skewed),
            description: "Readings stored whose device time was off from the gateway's by more than Agent:Clock:MaxSkewSeconds");
        _meter.CreateObservableCounter("edge.ingest.clock_future_refused", () => Interlocked.Read(ref _refused),
            description: "Readings refused because their device time was further ahead than Agent:Clock:MaxAheadSeconds");
        _meter.CreateObservableGauge("edge.ingest.devices_clock_skewed", () => Skewed().Count,
            description: "Devices whose last reading was off from the gateway's clock by more than Agent:Clock:MaxSkewSeconds");
        _meter.CreateObservableGauge("edge.gateway.clock_synchronized", () => _gateway.Synchronized switch { true => 1, false => 0, null => -1 },
            description: "1 while the gateway's clock is synchronized (NTP), 0 when not, -1 when the agent cannot tell");
    }

    public Meter Meter => _meter;

    /// <summary>Whether the gateway's clock is trusted to refuse readings by (<see cref="ClockOptions.TrustGatewayClock"/>).</summary>
    public bool GatewayTrusted => _options.TrustGatewayClock switch
    {
        "always" => true,
        "never" => false,
        _ => _gateway.Synchronized == true,
    };

    public bool? GatewaySynchronized => _gateway.Synchronized;

    public TimeSpan MaxSkew => TimeSpan.FromSeconds(_options.MaxSkewSeconds);

    /// <summary>
    /// Records a reading's skew (device time minus receive time) and returns the refusal reason when it is too far in
    /// the future to store, or null.
    /// </summary>
    public string? Check(string serial, DateTimeOffset deviceTime, DateTimeOffset receivedAt)
    {
        var skew = deviceTime - receivedAt;
        if (skew > TimeSpan.FromSeconds(_options.MaxAheadSeconds) && GatewayTrusted)
        {
            Interlocked.Increment(ref _refused);
            return $"timestamp: {Describe(skew)} ahead of the gateway's clock, more than Agent:Clock:MaxAheadSeconds ({_options.MaxAheadSeconds} s); set the device's clock";
        }

        var skewed = skew.Duration() > MaxSkew;
        if (skewed)
        {
            Interlocked.Increment(ref _skewed);
        }

        // Updated in place: this runs for every reading, and a new record (plus the closures) per reading was garbage.
        var clock = _devices.GetOrAdd(serial, static _ => new DeviceClock());
        clock.Record(skew, skewed);
        return null;
    }

    /// <summary>Devices whose last reading was skewed, largest skew first: serial, that skew, skewed readings since the start.</summary>
    public IReadOnlyList<(string Serial, TimeSpan LastSkew, long SkewedReadings)> Skewed() =>
        [.. _devices.Select(d => (Serial: d.Key, d.Value.LastSkew, d.Value.SkewedReadings))
            .Where(d => d.LastSkew.Duration() > MaxSkew)
            .OrderByDescending(d => d.LastSkew.Duration())];

    public void Dispose() => _meter.Dispose();

    /// <summary>"2 h 5 min", "40 s": for reasons and the status.</summary>
    public static string Describe(TimeSpan skew)
    {
        var d = skew.Duration();
        return d.TotalDays >= 2 ? $"{(int)d.TotalDays} days"
            : d.TotalHours >= 1 ? $"{(int)d.TotalHours} h {d.Minutes} min"
            : d.TotalMinutes >= 1 ? $"{(int)d.TotalMinutes} min {d.Seconds} s"
            : $"{(int)d.TotalSeconds} s";
    }

    /// <summary>One device's last skew and its skewed readings; a device's readings may be checked on two threads at once.</summary>
    private sealed class DeviceClock
    {
        private long _lastSkewTicks;
        private long _skewedReadings;

        public TimeSpan LastSkew => TimeSpan.FromTicks(Volatile.Read(ref _lastSkewTicks));

        public long SkewedReadings => Interlocked.Read(ref _skewedReadings);

        public void Record(TimeSpan skew, bool skewed)
        {
            Volatile.Write(ref _lastSkewTicks, skew.Ticks);
            if (skewed)
            {
                Interlocked.Increment(ref _skewedReadings);
            }
        }
    }
}
