using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Downlink;

/// <summary>A device's answer on <c>devices/{serial}/config/ack</c>: which config version it applied or rejected, and why.</summary>
public sealed record ConfigAck(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason")] string? Reason = null)
{
    public const string Applied = "applied";
    public const string Rejected = "rejected";
}

/// <summary>
/// A firmware offer, cloud → gateway on <c>edge/v1/{gatewayId}/firmware</c> and, unchanged, agent → device retained on
/// <c>devices/{serial}/firmware</c>. The device downloads from <see cref="Url"/> itself and checks <see cref="Sha256"/>;
/// the gateway never downloads firmware.
/// </summary>
public sealed record FirmwareOffer(
    [property: JsonPropertyName("job_id")] Guid JobId,
    [property: JsonPropertyName("serial")] string Serial,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("issued_at")] DateTimeOffset IssuedAt);

/// <summary>A device's firmware progress on <c>devices/{serial}/firmware/progress</c>.</summary>
public sealed record FirmwareProgress(
    [property: JsonPropertyName("job_id")] Guid JobId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason")] string? Reason = null,
    [property: JsonPropertyName("percent")] int? Percent = null)
{
    public const string Downloading = "downloading";
    public const string Installing = "installing";
    public const string Done = "done";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> Statuses = [Downloading, Installing, Done, Failed];
}

/// <summary>Strict snake_case JSON for the messages devices exchange with the agent about configs and firmware.</summary>
[JsonSourceGenerationOptions(
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 8)]
[JsonSerializable(typeof(ConfigAck))]
[JsonSerializable(typeof(FirmwareOffer))]
[JsonSerializable(typeof(FirmwareProgress))]
public sealed partial class DeviceRepliesJsonContext : JsonSerializerContext;

/// <summary>Reads and checks device replies and firmware offers; a refusal names the field and the reason.</summary>
public static class DeviceReplyReader
{
    public const int MaxReasonLength = 500;

    public static bool TryReadConfigAck(ReadOnlySpan<byte> json, out ConfigAck? ack, out string error)
    {
        ack = Read(json, DeviceRepliesJsonContext.Default.ConfigAck, out error);
        if (ack is null)
        {
            return false;
        }

        error = ack switch
        {
            { Version: < 1 } => $"version: must be 1 or more (was {ack.Version})",
            { Status: not (ConfigAck.Applied or ConfigAck.Rejected) } => $"status: must be \"applied\" or \"rejected\" (was \"{ack.Status}\")",
            { Status: ConfigAck.Rejected, Reason: null or "" } => "reason: required when status is \"rejected\"",
            { Reason.Length: > MaxReasonLength } => $"reason: at most {MaxReasonLength} characters",
            _ => "",
        };
        return error.Length == 0;
    }

    public static bool TryReadFirmwareProgress(ReadOnlySpan<byte> json, out FirmwareProgress? progress, out string error)
    {
        progress = Read(json, DeviceRepliesJsonContext.Default.FirmwareProgress, out error);
        if (progress is null)
        {
            return false;
        }

        error = progress switch
        {
            { JobId: var id } when id == Guid.Empty => "job_id: required",
            { Status: var s } when !FirmwareProgress.Statuses.Contains(s) => $"status: must be one of {string.Join(", ", FirmwareProgress.Statuses)} (was \"{progress.Status}\")",
            { Status: FirmwareProgress.Failed, Reason: null or "" } => "reason: required when status is \"failed\"",
            { Reason.Length: > MaxReasonLength } => $"reason: at most {MaxReasonLength} characters",
            { Percent: < 0 or > 100 } => $"percent: must be between 0 and 100 (was {progress.Percent})",
            _ => "",
        };
        return error.Length == 0;
    }

    public static bool TryReadFirmwareOffer(ReadOnlySpan<byte> json, out FirmwareOffer? offer, out string error)
    {
        offer = Read(json, DeviceRepliesJsonContext.Default.FirmwareOffer, out error);
        if (offer is null)
        {
            return false;
        }

        error = CheckOffer(offer.JobId, offer.Serial, offer.Version, offer.Url, offer.Sha256);
        return error.Length == 0;
    }

    /// <summary>The rules for a whole firmware offer (what the agent checks on what the cloud sent).</summary>
    public static string CheckOffer(Guid jobId, string serial, string version, string url, string sha256) =>
        jobId == Guid.Empty ? "job_id: required"
        : !Devices.SerialNumber.TryParse(serial, out _, out var serialError) ? $"serial: {serialError}"
        : CheckImage(version, url, sha256);

    /// <summary>The rules for the image an offer names, shared with the API's and edgectl's job checks: "" when it is fine.</summary>
    public static string CheckImage(string version, string url, string sha256) =>
        version.Length is 0 or > 64 ? "version: 1-64 characters"
        : !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || url.Length > 2048
            ? "url: must be an absolute https URL of at most 2048 characters (devices download it themselves)"
        : sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower) ? "sha256: must be 64 lower-case hex digits"
        : "";

    private static T? Read<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, out string error)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize(json, type);
            error = value is null ? "the payload is JSON null, expected an object" : "";
            return value;
        }
        catch (JsonException ex)
        {
            // System.Text.Json names a missing property only inside its message; lead with the field as every refusal does.
            const string missing = "missing required properties including: ";
            var message = ex.Message.Split(" Path:")[0];
            var index = message.IndexOf(missing, StringComparison.Ordinal);
            if (index >= 0)
            {
                error = message[(index + missing.Length)..].Trim('.', ' ').Replace("'", "", StringComparison.Ordinal) + ": required";
                return null;
            }

            var at = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : ex.Path.TrimStart('$', '.') + ": ";
            error = at + message;
            return null;
        }
    }
}
