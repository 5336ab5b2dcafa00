using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Uplink;

/// <summary>
/// The link to the cloud broker (AWS IoT Core in production; mosquitto or EMQX on-prem). Defaults follow AWS IoT
/// Core's per-connection limits (128 KB per message, 100 publishes/s, 512 KiB/s) with 20 % headroom on the rates.
/// </summary>
internal sealed class UplinkOptions
{
    public const string SectionName = "Agent:Uplink";

    /// <summary>Cloud broker host name. Unset: the agent only journals (no uplink), which the status shows.</summary>
    public string? Host { get; set; }

    /// <summary>Cloud broker TLS port. Default 8883.</summary>
    [SettingRange(1, 65535, ErrorMessage = "Agent:Uplink:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8883;

    /// <summary>CA bundle (PEM) the broker's certificate must chain to. Unset: the system trust store (AWS IoT Core).</summary>
    public string? CaPath { get; set; }

    /// <summary>The gateway's client certificate (PEM).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The gateway's private key (PEM, mode 0600; generated on the gateway, never leaves it).</summary>
    public string? KeyPath { get; set; }

    /// <summary>MQTT client id. Default: the gateway id (AWS IoT policies usually require it).</summary>
    public string? ClientId { get; set; }

    /// <summary>How long the broker keeps the gateway's session (and queued commit acks) while it is offline. Default 7 days.</summary>
    [SettingRange(60, 2_592_000, ErrorMessage = "Agent:Uplink:SessionExpirySeconds must be between 60 and 2592000.")]
    public int SessionExpirySeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>
    /// Largest message the agent publishes (a batch, an event batch, a report record), in bytes. Default 126976
    /// (<see cref="Edge.Contracts.Uplink.BatchCodec.DefaultMaxWireBytes"/>): under AWS IoT Core's 128 KB whether KB means
    /// 1,000 or 1,024 bytes, with room for the topic and MQTT 5 properties.
    /// </summary>
    [SettingRange(4096, 268_435_455, ErrorMessage = "Agent:Uplink:MaxBatchBytes must be between 4096 and 268435455.")]
    public int MaxBatchBytes { get; set; } = Edge.Contracts.Uplink.BatchCodec.DefaultMaxWireBytes;

    /// <summary>Most readings read from the journal for one batch. Default 2000.</summary>
    [SettingRange(1, 100_000, ErrorMessage = "Agent:Uplink:MaxReadingsPerBatch must be between 1 and 100000.")]
    public int MaxReadingsPerBatch { get; set; } = 2000;

    /// <summary>Batches sent but not yet acknowledged by a worker. Default 8; bounds re-sends after an outage.</summary>
    [SettingRange(1, 1000, ErrorMessage = "Agent:Uplink:MaxInFlightBatches must be between 1 and 1000.")]
    public int MaxInFlightBatches { get; set; } = 8;

    /// <summary>
    /// Most publishes in any one second, every kind of message together. Default 80: AWS IoT Core allows 100 per
    /// connection; the rest is headroom for PUBACKs of re-sends and for the broker's own accounting.
    /// </summary>
    [SettingRange(1, 100_000, ErrorMessage = "Agent:Uplink:PublishesPerSecond must be between 1 and 100000.")]
    public int PublishesPerSecond { get; set; } = 80;

    /// <summary>Most bytes published in any one second, every kind of message together. Default 409600 (80 % of AWS IoT Core's 512 KiB/s).</summary>
    [SettingRange(1024, int.MaxValue, ErrorMessage = "Agent:Uplink:BytesPerSecond must be at least 1024.")]
    public int BytesPerSecond { get; set; } = 400 * 1024;

    /// <summary>Seconds to wait for a worker's commit ack before re-sending a batch; doubles per attempt up to 2 minutes, and drops back to this when any ack arrives. Default 30.</summary>
    [SettingRange(1, 3600, ErrorMessage = "Agent:Uplink:AckTimeoutSeconds must be between 1 and 3600.")]
    public int AckTimeoutSeconds { get; set; } = 30;

    /// <summary>After this many urgent batches in a row, one routine batch goes first if routine readings wait. Default 4 (routine gets ≥ 20%).</summary>
    [SettingRange(1, 1000, ErrorMessage = "Agent:Uplink:UrgentBurst must be between 1 and 1000.")]
    public int UrgentBurst { get; set; } = 4;

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}
