using System.Security.Cryptography.X509Certificates;
using MQTTnet.Formatter;

namespace Edge.Cli.Simulate;

/// <summary>What a <see cref="LoadGenerator"/> run does: which broker, which devices, how fast, for how long.</summary>
internal sealed record LoadGeneratorOptions
{
    /// <summary>Fastest pacing supported per device; above it the timer cannot keep up, use 0 (unpaced) instead.</summary>
    public const double MaxRatePerDevice = 1000;

    /// <summary>Slowest pacing supported per device (one reading every ~17 minutes); a timer cannot wait much longer.</summary>
    public const double MinRatePerDevice = 0.001;

    /// <summary>Broker host name or address. Default: loopback, where the agent's broker listens on a gateway.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Broker TCP port. Default: 1883 (plain MQTT; with <see cref="DeviceCa"/> the agent's TLS port is 8883).</summary>
    public int Port { get; init; } = 1883;

    /// <summary>
    /// The CA the broker's certificate must chain to, and its name or address must match <see cref="Host"/>: set, the
    /// devices connect with TLS and check the broker as real devices do (never without the check). Default: none, plain MQTT.
    /// </summary>
    public X509Certificate2Collection? DeviceCa { get; init; }

    /// <summary>The devices to simulate, one MQTT connection each.</summary>
    public required IReadOnlyList<SimulatedDevice> Devices { get; init; }

    /// <summary>Readings per second per device; 0 sends the next reading as soon as the previous one is acknowledged. Default: 1.</summary>
    public double RatePerDevice { get; init; } = 1;

    /// <summary>Stop starting new readings after this long. Default: none (run until the count or cancellation).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Readings each device sends (acknowledged, refused or abandoned). Default: none (run until the duration or cancellation).</summary>
    public long? ReadingsPerDevice { get; init; }

    /// <summary>MQTT protocol version. Default: 5, which carries the agent's refusal reason codes.</summary>
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    /// <summary>Keep every acknowledged reading's timestamp per serial, for tests that check what arrived. Default: off (it grows with the run).</summary>
    public bool RecordAcknowledged { get; init; }

    /// <summary>How long to wait for a PUBACK before treating the connection as dead, reconnecting and re-sending. Default: 10 s.</summary>
    public TimeSpan PublishTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one connection attempt (TCP, CONNECT, CONNACK) may take. Default: 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait before re-sending a reading the broker refused with QuotaExceeded. Default: 1 s.</summary>
    public TimeSpan QuotaBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the exponential reconnect backoff (it starts at 100 ms). Default: 5 s.</summary>
    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// End the run if no device at all has connected after this long: the broker is not there, and retrying
    /// forever would only hang a script. Default: none (keep retrying, as real devices do).
    /// </summary>
    public TimeSpan? GiveUpIfNoConnectionAfter { get; init; }

    /// <summary>
    /// Publish each reading to <c>devices/{serial}/status</c> instead of <c>…/telemetry</c>. The agent acknowledges a
    /// status message without validating or journaling it, so a run measures the agent's MQTT path alone (the ingest
    /// benchmark's broker-path figures). Default: off.
    /// </summary>
    public bool PublishToStatusTopic { get; init; }

    /// <summary>Share of readings that carry an alarm (leak, low purity, arrhythmia), 0 to 1. Default: 0.03.</summary>
    public double AlarmRatio { get; init; } = 0.03;

    /// <summary>Seed of the readings' random walks; the same seed and devices give the same values. Default: 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfZero(Devices.Count, nameof(Devices));
        if (!(RatePerDevice == 0 || (RatePerDevice >= MinRatePerDevice && RatePerDevice <= MaxRatePerDevice)))
        {
            throw new ArgumentOutOfRangeException(
                nameof(RatePerDevice), RatePerDevice, $"Must be 0 (unpaced) or between {MinRatePerDevice} and {MaxRatePerDevice}.");
        }

        if (Duration is { } duration)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero, nameof(Duration));
        }

        if (ReadingsPerDevice is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(ReadingsPerDevice));
        }

        if (ProtocolVersion is not (MqttProtocolVersion.V500 or MqttProtocolVersion.V311))
        {
            throw new ArgumentOutOfRangeException(nameof(ProtocolVersion), ProtocolVersion, "Only MQTT 5 and 3.1.1 are supported.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PublishTimeout, TimeSpan.Zero, nameof(PublishTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        if (GiveUpIfNoConnectionAfter is { } giveUp)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(giveUp, TimeSpan.Zero, nameof(GiveUpIfNoConnectionAfter));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(QuotaBackoff, TimeSpan.Zero, nameof(QuotaBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReconnectBackoff, TimeSpan.FromMilliseconds(100), nameof(MaxReconnectBackoff));
        if (!(AlarmRatio >= 0 && AlarmRatio <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(AlarmRatio), AlarmRatio, "Must be between 0 and 1.");
        }

        var duplicate = Devices.GroupBy(d => d.Serial, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            // Two connections with one client id would take each other's session over, endlessly.
            throw new ArgumentException($"Serial {duplicate.Key} is listed more than once.", nameof(Devices));
        }
    }
}
