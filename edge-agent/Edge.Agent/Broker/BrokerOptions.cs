using Edge.Contracts.Settings;
using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Broker;

/// <summary>The device-facing MQTT broker.</summary>
internal sealed class BrokerOptions
{
    public const string SectionName = "Agent:Broker";

    /// <summary>Address the listeners bind to. Default 0.0.0.0 (devices are on the clinic LAN).</summary>
    [Required(ErrorMessage = "Agent:Broker:BindAddress is required.")]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>
    /// Plain (unencrypted) MQTT port, for devices that cannot do TLS. Default 0: off. Setting it (1883 by convention)
    /// sends those devices' secrets and readings in clear over the LAN; the agent warns of it at start and in its status.
    /// </summary>
    [SettingRange(0, 65535, ErrorMessage = "Agent:Broker:Port must be between 0 (off) and 65535.")]
    public int Port { get; set; }

    /// <summary>The TLS listener, always on; its certificate is the agent's own unless one is configured.</summary>
    [ValidateObjectMembers]
    public BrokerTlsOptions Tls { get; set; } = new();

    /// <summary>Most devices connected at once; more are refused with "server busy". Default 500.</summary>
    [SettingRange(1, 100_000, ErrorMessage = "Agent:Broker:MaxClients must be between 1 and 100000.")]
    public int MaxClients { get; set; } = 500;

    /// <summary>Largest accepted message payload in bytes (telemetry). Default 65536.</summary>
    [SettingRange(1024, 16 * 1024 * 1024, ErrorMessage = "Agent:Broker:MaxPayloadBytes must be between 1024 and 16777216.")]
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Largest MQTT packet a connected device may send, checked from the packet's header before it is read; a larger
    /// one closes the connection. Default unset: the largest publish the agent accepts (<see cref="MaxPayloadBytes"/>,
    /// or an ECG report PDF part, <c>Agent:Reports:MaxPdfPublishBytes</c>) + 4 KiB, and at least 256 KiB, so a payload
    /// somewhat over its limit is refused with a reason and the connection stays usable. Before CONNECT: 16 KiB.
    /// </summary>
    [SettingRange(2048, 256 * 1024 * 1024 + 4096, ErrorMessage = "Agent:Broker:MaxPacketBytes must be between 2048 and 268439552.")]
    public int? MaxPacketBytes { get; set; }

    /// <summary>The packet limit in force: <see cref="MaxPacketBytes"/>, or its default for <paramref name="largestPdfPublish"/>.</summary>
    public int PacketLimit(int largestPdfPublish) =>
        MaxPacketBytes ?? (int)Math.Min(int.MaxValue, Math.Max(256L * 1024, Math.Max(MaxPayloadBytes, largestPdfPublish) + 4096L));

    /// <summary>How long a new socket has for its TLS handshake, and then for its CONNECT, in seconds. Default 5.</summary>
    [SettingRange(1, 120, ErrorMessage = "Agent:Broker:ConnectTimeoutSeconds must be between 1 and 120.")]
    public int ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Most sockets open at once that have not sent their CONNECT yet; more are closed at once. Default 500: every device
    /// of a full gateway reconnecting at once after a restart (each costs at most 16 KiB until its CONNECT).
    /// </summary>
    [SettingRange(1, 10_000, ErrorMessage = "Agent:Broker:MaxPendingConnections must be between 1 and 10000.")]
    public int MaxPendingConnections { get; set; } = 500;

    /// <summary>
    /// Most sockets open at once from one IP address. Default 32: a device needs one; a hub or NAT in front of several
    /// devices needs one each.
    /// </summary>
    [SettingRange(1, 100_000, ErrorMessage = "Agent:Broker:MaxConnectionsPerAddress must be between 1 and 100000.")]
    public int MaxConnectionsPerAddress { get; set; } = 32;

    /// <summary>
    /// Most MQTT 5 topic aliases a device may use on one connection (advertised in the CONNACK); an alias above it closes
    /// the connection. Default 16: a device publishes on a handful of topics. 0 means no aliases.
    /// </summary>
    [SettingRange(0, 1024, ErrorMessage = "Agent:Broker:MaxTopicAliases must be between 0 (no aliases) and 1024.")]
    public int MaxTopicAliases { get; set; } = 16;

    /// <summary>
    /// Most publishes of one device refused for their content (bad topic, payload, or authorization; not back-pressure)
    /// within <see cref="RefusalWindowSeconds"/>; the next one closes its connection. Default 60: a healthy device has none.
    /// The agent keeps this many timestamps per device that has had a refusal (8 bytes each), hence the upper bound.
    /// </summary>
    [SettingRange(1, 10_000, ErrorMessage = "Agent:Broker:MaxRefusals must be between 1 and 10000.")]
    public int MaxRefusals { get; set; } = 60;

    /// <summary>The sliding window of <see cref="MaxRefusals"/>, in seconds. Default 60.</summary>
    [SettingRange(1, 86_400, ErrorMessage = "Agent:Broker:RefusalWindowSeconds must be between 1 and 86400.")]
    public int RefusalWindowSeconds { get; set; } = 60;

    /// <summary>
    /// Most QoS 1 publishes one MQTT 5 device may have unacknowledged at once (advertised in the CONNACK as Receive
    /// Maximum; advertised, not enforced: a device that sends more is served, and the stores' content id keeps one row of
    /// each reading). The journal remembers at least this many
    /// recent readings per device, so a device that re-sends everything in flight after losing its PUBACKs is recognised
    /// however its re-sends arrive. Default 100; the upper bound keeps that memory small (~40 bytes a reading).
    /// </summary>
    [SettingRange(1, 1000, ErrorMessage = "Agent:Broker:ReceiveMaximum must be between 1 and 1000.")]
    public int ReceiveMaximum { get; set; } = 100;

    /// <summary>Longest keep-alive a device may ask for, in seconds; 0 (never) and longer are refused. Default 600.</summary>
    [SettingRange(10, 65535, ErrorMessage = "Agent:Broker:MaxKeepAliveSeconds must be between 10 and 65535.")]
    public int MaxKeepAliveSeconds { get; set; } = 600;
}

/// <summary>The TLS listener. Devices may present a client certificate whose CN is their serial instead of a secret.</summary>
internal sealed class BrokerTlsOptions
{
    /// <summary>TLS port. Default 8883.</summary>
    [SettingRange(1, 65535, ErrorMessage = "Agent:Broker:Tls:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 8883;

    /// <summary>
    /// Server certificate (PEM) from the operator's own CA. Default unset: the agent creates its device CA and a server
    /// certificate in its state directory (<c>tls/</c>) and renews that certificate before it expires.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>Server private key (PEM, mode 0600).</summary>
    public string? KeyPath { get; set; }

    /// <summary>CA (PEM) that signs device client certificates; unset means no certificate login.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>
    /// Extra names (DNS names or IP addresses) for the agent's own server certificate, besides the ones it finds: its
    /// host name, host name.local, its LAN addresses, localhost, 127.0.0.1 and ::1. Default none.
    /// </summary>
    public string[] ServerNames { get; set; } = [];

    /// <summary>True when the operator configured the server certificate; false when the agent manages its own.</summary>
    public bool Configured => !string.IsNullOrWhiteSpace(CertificatePath);
}
