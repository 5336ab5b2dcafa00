using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Admin;

// The agent's local admin interface (HTTP over a Unix domain socket), shared by the agent and edgectl.
// Routes (all JSON; errors are RFC 7807 problem details with "title" and "detail"):
//   GET    /v1/status                       -> AgentStatus
//   GET    /v1/metrics                      -> text/plain, the Prometheus text format (not JSON)
//   GET    /v1/devices                      -> DeviceCredentialInfo[]
//   POST   /v1/devices  {"serial": "...", "origin": "operator|simulator"}
//                                           -> 201 DeviceSecret (409 when the serial already has one)
//   POST   /v1/devices/{serial}/rotate[?ifOrigin=simulator]
//                                           -> DeviceSecret (409 when ifOrigin is not the credential's origin)
//   DELETE /v1/devices/{serial}             -> 204
//   GET    /v1/deadletters?limit=N          -> DeadLetterInfo[] (newest first)
//   GET    /v1/device-ca                    -> application/x-pem-file, the agent's device CA (404 when the certificate is configured)

/// <summary>A snapshot of what the agent is doing, for <c>edgectl agent status</c>.</summary>
/// <param name="GatewayId">The gateway's id.</param>
/// <param name="Version">The agent's version.</param>
/// <param name="StartedAt">When the agent started.</param>
/// <param name="UptimeSeconds">Seconds since the start.</param>
/// <param name="DevicesConnected">Devices connected now.</param>
/// <param name="Journal">Journal depth, size, quota and commits.</param>
/// <param name="Ingest">What devices sent since the start.</param>
/// <param name="DeadLetters">Dead letters kept now.</param>
/// <param name="Uplink">The link to the cloud.</param>
/// <param name="Broker">The device listeners and the server certificate. Absent from older agents.</param>
/// <param name="Clocks">The gateway's clock and the devices' clocks compared with it. Absent from older agents.</param>
/// <param name="Heartbeat">The gateway's heartbeat to the cloud. Absent from older agents.</param>
/// <param name="NotStored">
/// Since the start, everything that left the gateway without reaching a store, by reason (<see cref="NotStoredReasons"/>;
/// every reason present, 0 included). Absent from older agents.
/// </param>
public sealed record AgentStatus(
    string GatewayId,
    string Version,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    int DevicesConnected,
    JournalStatus Journal,
    IngestCounters Ingest,
    long DeadLetters,
    UplinkStatus Uplink,
    BrokerStatus? Broker = null,
    IReadOnlyDictionary<string, long>? NotStored = null,
    ClockStatus? Clocks = null,
    HeartbeatStatus? Heartbeat = null);

/// <summary>The heartbeat: how often it is sent, when it last reached the cloud broker, and how many since the start.</summary>
public sealed record HeartbeatStatus(int IntervalSeconds, DateTimeOffset? LastSentAt, long Sent);

/// <summary>
/// Clocks: whether the gateway's is synchronized (null: the agent cannot tell), whether readings are refused by it, the
/// skew beyond which a reading is flagged, and the devices whose last reading was beyond it (largest first).
/// </summary>
public sealed record ClockStatus(bool? GatewaySynchronized, bool GatewayTrusted, double MaxSkewSeconds, IReadOnlyList<DeviceClockSkew> SkewedDevices);

/// <summary>A device whose last reading was off from the gateway's clock: by how much (positive: ahead), and how many readings were.</summary>
public sealed record DeviceClockSkew(string Serial, double LastSkewSeconds, long SkewedReadings);

/// <summary>
/// The device listeners: TLS always, plain MQTT only when the operator turned it on (then <see cref="Warning"/> says
/// what that costs). The certificate is the agent's own (<see cref="ManagedCertificate"/>) or the operator's.
/// </summary>
public sealed record BrokerStatus(
    IReadOnlyList<string> Endpoints,
    bool PlainEnabled,
    string? Warning,
    bool ManagedCertificate,
    IReadOnlyList<string> ServerNames,
    DateTimeOffset ServerCertificateNotAfter,
    string? DeviceCaFingerprint);

/// <summary>The reasons of <see cref="AgentStatus.NotStored"/>; each is also a metric (docs/operations.md).</summary>
public static class NotStoredReasons
{
    /// <summary>Routine readings shed to make room under the journal quota (<c>edge_journal_shed_total</c>).</summary>
    public const string Shed = "shed";

    /// <summary>Readings no batch can carry, kept as gateway dead letters (<c>edge_uplink_readings_dead_lettered_total{reason="too_large_for_uplink"}</c>).</summary>
    public const string TooLargeForUplink = "too_large_for_uplink";

    /// <summary>Readings a worker acknowledged as dead-lettered; the cloud keeps them (<c>…{reason="dead_lettered_in_cloud"}</c>).</summary>
    public const string DeadLetteredInCloud = "dead_lettered_in_cloud";

    /// <summary>Dead letters removed past their count or byte budget (<c>edge_journal_dead_letters_evicted_total</c>).</summary>
    public const string DeadLettersEvicted = "dead_letters_evicted";

    /// <summary>Refused messages not kept as dead letters because the journal writer was behind (<c>edge_journal_dead_letters_dropped_total</c>).</summary>
    public const string DeadLettersDropped = "dead_letters_dropped";
}

/// <summary>Journal depth, size and quota, per lane.</summary>
public sealed record JournalStatus(
    string Path,
    long Epoch,
    long LastSequence,
    long QuotaBytes,
    long UsedBytes,
    bool Encrypted,
    IReadOnlyList<LaneStatus> Lanes,
    IReadOnlyDictionary<string, long> ShedByReason,
    CommitStatus? Commits = null);

/// <summary>
/// The journal's group commits since the agent started: how many, how many operations (mostly readings) each held on
/// average, and the average fdatasync time. A slow or worn disk shows here first. Absent from older agents.
/// <paramref name="MinCommitIntervalMs"/> is the configured <c>Agent:Journal:MinCommitIntervalMs</c> (0 = off; also 0
/// from agents older than the setting). <paramref name="WriteAheadLog"/> says whether commits go to the write-ahead log
/// (<c>Agent:Journal:WriteAheadLog</c>); <paramref name="WriteAheadLogFull"/> counts the commits that found it full and
/// waited for LiteDB's sync (a few an hour are normal under a burst; many mean <c>WriteAheadLogBytes</c> is too small).
/// </summary>
public sealed record CommitStatus(long Count, double OperationsPerCommit, double SyncMillisecondsPerCommit, int MinCommitIntervalMs = 0,
    bool WriteAheadLog = false, long WriteAheadLogFull = 0);

/// <summary>One lane of the journal: how many entries wait, their bytes, and the oldest one's age.</summary>
public sealed record LaneStatus(string Lane, long Entries, long Bytes, double? OldestAgeSeconds);

/// <summary>
/// The link to the cloud: whether it is up, what waits, and when the backlog should be gone at the current ack rate.
/// </summary>
public sealed record UplinkStatus(
    bool Configured,
    string? Endpoint,
    bool Connected,
    int InFlightBatches,
    long AckedReadings,
    long SentBatches,
    long ResentBatches,
    long DeadLetteredBatches,
    DateTimeOffset? LastAckAt,
    double AckedReadingsPerSecond,
    long BacklogReadings,
    double? OldestUnsyncedAgeSeconds,
    double? DrainEtaSeconds,
    UplinkCertificateStatus? Certificate = null);

/// <summary>
/// The uplink client certificate and its renewal: when it expires, what the renewal is doing (see the agent's
/// <c>RenewalState</c>: not configured, waiting, renewing, failing) and the last failure. Null from agents older than it.
/// </summary>
public sealed record UplinkCertificateStatus(
    DateTimeOffset NotAfter, double ExpiresInSeconds, string Renewal, DateTimeOffset? RenewAt, string? LastError, long Renewals, long Failures);

/// <summary>Counters since the agent started.</summary>
public sealed record IngestCounters(long Accepted, long Duplicates, long Refused, IReadOnlyDictionary<string, long> RefusedByReason);

/// <summary>
/// A device credential as listed (never the secret). <paramref name="Origin"/> says who created it (see
/// <see cref="CredentialOrigins"/>); agents older than the field, and credentials created before it, read as operator.
/// </summary>
public sealed record DeviceCredentialInfo(
    string Serial, string Kind, DateTimeOffset CreatedAt, DateTimeOffset? RotatedAt, bool Connected, string Origin = CredentialOrigins.Operator);

/// <summary>A freshly generated device secret; shown once, never stored in clear by the agent.</summary>
public sealed record DeviceSecret(string Serial, string Secret);

/// <summary>Request body for adding a device credential; <paramref name="Origin"/> defaults to operator.</summary>
public sealed record AddDeviceRequest(string Serial, string? Origin = null);

/// <summary>
/// Who created a device credential. <c>edgectl simulate</c> creates its devices as <see cref="Simulator"/> and touches
/// no credential of another origin, so a simulation can never rotate a real device's secret.
/// </summary>
public static class CredentialOrigins
{
    /// <summary>A person, through <c>edgectl agent device add</c> or the admin API (the default).</summary>
    public const string Operator = "operator";

    /// <summary><c>edgectl simulate</c>.</summary>
    public const string Simulator = "simulator";

    public static bool IsKnown(string? origin) => origin is Operator or Simulator;
}

/// <summary>A refused message kept for a technician to inspect.</summary>
public sealed record DeadLetterInfo(
    long Id,
    DateTimeOffset ReceivedAt,
    string ClientId,
    string Topic,
    string ReasonCode,
    string Reason,
    int PayloadBytes,
    string PayloadPreview);

/// <summary>
/// A device's desired config as the agent holds it: the message published to the device (with its version), where it
/// came from (cloud or on-site), and the device's answer (pending, applied or rejected with a reason).
/// </summary>
public sealed record DeviceConfigInfo(
    string Serial,
    int Version,
    string Source,
    string DeviceStatus,
    string? DeviceReason,
    DateTimeOffset? DeviceAnsweredAt,
    JsonElement Message);

/// <summary>Source-generated JSON for the admin models (web defaults: camelCase).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AgentStatus))]
[JsonSerializable(typeof(DeviceCredentialInfo[]))]
[JsonSerializable(typeof(DeviceSecret))]
[JsonSerializable(typeof(AddDeviceRequest))]
[JsonSerializable(typeof(DeadLetterInfo[]))]
[JsonSerializable(typeof(DeviceConfigInfo))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
