using Edge.Contracts.Devices;
using Edge.Contracts.Topics;

namespace Edge.Cli.Simulate;

/// <summary>One device to simulate: its serial (which also picks its kind) and its broker secret (null when anonymous).</summary>
internal sealed record SimulatedDevice(string Serial, string? Secret)
{
    /// <summary>The serial, checked: a simulator must not publish what no real device could be called.</summary>
    public SerialNumber ParsedSerial { get; } = SerialNumber.TryParse(Serial, out var parsed, out var reason)
        ? parsed
        : throw new ArgumentException($"'{Serial}' is not a device serial: {reason}", nameof(Serial));

    public DeviceKind Kind => ParsedSerial.Kind;

    /// <summary>The topic a device publishes its readings to.</summary>
    public string TelemetryTopic { get; } = DeviceTopics.Telemetry(Serial);

    // The secret stays out of logs and test failure messages.
    public override string ToString() => $"{Serial} ({(Secret is null ? "anonymous" : "with secret")})";
}
