using MQTTnet;

namespace Edge.Cli.Simulate;

/// <summary>What a <see cref="LoadGenerator"/> run did. Every reading started is acknowledged, refused or unacknowledged.</summary>
internal sealed record LoadGeneratorResult
{
    public required int Devices { get; init; }

    /// <summary>Readings the broker acknowledged (PUBACK success; for the agent: durably journaled).</summary>
    public required long Acknowledged { get; init; }

    /// <summary>Readings the broker refused for good, by PUBACK reason code (QuotaExceeded is retried, so never here).</summary>
    public required IReadOnlyDictionary<MqttClientPublishReasonCode, long> RefusedByReason { get; init; }

    public long Refused => RefusedByReason.Values.Sum();

    /// <summary>Times a reading was refused with QuotaExceeded and re-sent after the quota backoff.</summary>
    public required long QuotaBackoffs { get; init; }

    /// <summary>Readings still unacknowledged when the run stopped (duration over or cancelled while retrying).</summary>
    public required long Unacknowledged { get; init; }

    /// <summary>Successful connections after a device's first one.</summary>
    public required long Reconnects { get; init; }

    /// <summary>Failed connection attempts and failed publishes (timeouts, disconnects); each is followed by a retry.</summary>
    public required long Errors { get; init; }

    /// <summary>Devices whose connection the broker refused for good (bad credentials, not authorized), by CONNACK code.</summary>
    public required IReadOnlyDictionary<MqttClientConnectResultCode, int> ConnectionsRefusedByReason { get; init; }

    /// <summary>Devices that never got a connection, whatever the reason.</summary>
    public required int DevicesNeverConnected { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>Acknowledged readings per second over the whole run.</summary>
    public double ReadingsPerSecond => Elapsed > TimeSpan.Zero ? Acknowledged / Elapsed.TotalSeconds : 0;

    /// <summary>Publish-to-PUBACK latency over every answered publish (acknowledged or refused).</summary>
    public required double LatencyP50Milliseconds { get; init; }

    public required double LatencyP99Milliseconds { get; init; }

    public required double LatencyMaxMilliseconds { get; init; }

    /// <summary>True when the run was cancelled before it finished on its own.</summary>
    public required bool Cancelled { get; init; }

    /// <summary>The last error seen (device serial and what failed), for a one-line diagnosis.</summary>
    public string? LastError { get; init; }

    /// <summary>Per serial, the timestamps of its acknowledged readings in acknowledgement order; null unless recording was asked for.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<DateTimeOffset>>? AcknowledgedTimestamps { get; init; }
}
