using System.Text.Json;
using Edge.Agent.Uplink;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>
/// Desired configs from the cloud (<c>edge/v1/{gatewayId}/config</c>): validated again (never trust the link), stored in
/// the journal database, then published retained to <c>devices/{serial}/config</c>. Only a newer version replaces the
/// stored one, so a late re-send of an old version changes nothing.
/// </summary>
internal sealed class ConfigDownlink(DeviceStateStore store, DevicePublisher publisher, DeviceThresholds thresholds, ILogger<ConfigDownlink> logger)
    : IDownlinkHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.Config;

    public async ValueTask HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!TryReadSerial(payload.Span, out var serial, out var error))
        {
            Log.DownlinkRefused(logger, "config", "?", error);
            return;
        }

        var validated = PayloadValidator.ValidateConfig(payload.Span, serial);
        if (!validated.IsValid)
        {
            Log.DownlinkRefused(logger, "config", serial.Value, validated.ErrorSummary());
            return;
        }

        if (validated.Value!.Version is not { } version)
        {
            Log.DownlinkRefused(logger, "config", serial.Value, "version: required on configs from the cloud");
            return;
        }

        var message = payload.ToArray();
        if (!await store.AcceptCloudConfigAsync(serial.Value, version, message))
        {
            Log.ConfigNotNewer(logger, serial.Value, version);
            return;
        }

        thresholds.Apply(validated.Value);
        await publisher.PublishConfigAsync(serial.Value, message, cancellationToken);
        Log.ConfigDelivered(logger, serial.Value, version, ConfigSources.Cloud);
    }

    /// <summary>Reads the top-level <c>serial</c> so the kind's schema can be picked; full validation follows.</summary>
    internal static bool TryReadSerial(ReadOnlySpan<byte> json, out SerialNumber serial, out string error)
    {
        serial = default;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = PayloadLimits.DefaultMaxDepth });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("serial", out var property) || property.ValueKind != JsonValueKind.String)
            {
                error = "serial: required (a string)";
                return false;
            }

            return SerialNumber.TryParse(property.GetString(), out serial, out error) || Fail(out error, $"serial: {error}");
        }
        catch (JsonException ex)
        {
            error = $"not JSON: {ex.Message}";
            return false;
        }
    }

    private static bool Fail(out string error, string message)
    {
        error = message;
        return false;
    }
}
