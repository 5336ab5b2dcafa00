namespace Edge.Cli.Simulate;

/// <summary>One device to simulate: its serial (which also picks its kind) and its broker secret (null when anonymous).</summary>
internal sealed record SimulatedDevice(string Serial, string? Secret)
{
    public DeviceKind Kind { get; } = DeviceKinds.FromSerial(Serial);

    /// <summary>The topic a device publishes its readings to.</summary>
    public string TelemetryTopic { get; } = $"devices/{Serial}/telemetry";

    // The secret stays out of logs and test failure messages.
    public override string ToString() => $"{Serial} ({(Secret is null ? "anonymous" : "with secret")})";
}
