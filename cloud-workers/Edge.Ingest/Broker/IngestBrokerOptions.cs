using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Ingest.Broker;

/// <summary>The worker's connection to the cloud broker.</summary>
internal sealed class IngestBrokerOptions
{
    public const string SectionName = "Ingest:Broker";

    /// <summary>Cloud broker host.</summary>
    [Required(ErrorMessage = "Ingest:Broker:Host is required.")]
    public string Host { get; set; } = "";

    /// <summary>Broker TLS port. Default 8883.</summary>
    [SettingRange(1, 65535, ErrorMessage = "Ingest:Broker:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8883;

    /// <summary>CA bundle (PEM) the broker's certificate must chain to; unset: the system trust store.</summary>
    public string? CaPath { get; set; }

    /// <summary>The worker's client certificate (PEM).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The worker's private key (PEM, mode 0600).</summary>
    public string? KeyPath { get; set; }

    /// <summary>MQTT client id; must be stable across restarts (the broker keeps its session). Default ingest-{host name}.</summary>
    public string? ClientId { get; set; }

    /// <summary>Shared-subscription group: every replica in the group shares the gateways' batches. Default "ingest".</summary>
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$", ErrorMessage = "Ingest:Broker:SharedGroup must be 1-64 letters, digits, '-' or '_'.")]
    public string SharedGroup { get; set; } = "ingest";

    /// <summary>
    /// How long the broker keeps this worker's session (and its unacknowledged batches) while it is away. Default 60 s:
    /// enough for a restart to resume it. Longer is worse, not safer: mosquitto keeps handing an absent member of the
    /// shared group its share of new batches until the session expires, and each of those waits for the gateway's ack
    /// timeout to be re-sent (measured: a SIGKILLed replica with a 1-hour session slowed a drain from 45 s to 3 minutes).
    /// Nothing is lost when a session expires; the gateways re-send.
    /// </summary>
    [SettingRange(0, 2_592_000, ErrorMessage = "Ingest:Broker:SessionExpirySeconds must be between 0 and 2592000.")]
    public int SessionExpirySeconds { get; set; } = 60;
}
