using Edge.Contracts.Downlink;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>
/// Devices' answers: config acks (<c>devices/{serial}/config/ack</c>) and firmware progress
/// (<c>…/firmware/progress</c>). Recorded durably (and queued for the cloud) before the device gets its PUBACK.
/// </summary>
internal sealed class DeviceReplies(DeviceStateStore store, ILogger<DeviceReplies> logger)
{
    /// <summary>Returns null when recorded or ignored as stale; otherwise the reason the payload is refused.</summary>
    public async Task<string?> ConfigAckAsync(string serial, ReadOnlyMemory<byte> payload)
    {
        if (!DeviceReplyReader.TryReadConfigAck(payload.Span, out var ack, out var error))
        {
            return error;
        }

        if (await store.RecordConfigAckAsync(serial, ack!))
        {
            Log.ConfigAnswered(logger, serial, ack!.Version, ack.Status, ack.Reason ?? "");
        }
        else
        {
            // Valid, but about a version that is no longer desired (a newer one is on its way): nothing to report.
            Log.StaleDeviceReply(logger, serial, $"config version {ack!.Version}");
        }

        return null;
    }

    public async Task<string?> FirmwareProgressAsync(string serial, ReadOnlyMemory<byte> payload)
    {
        if (!DeviceReplyReader.TryReadFirmwareProgress(payload.Span, out var progress, out var error))
        {
            return error;
        }

        if (!await store.RecordFirmwareProgressAsync(serial, progress!))
        {
            Log.StaleDeviceReply(logger, serial, $"firmware job {progress!.JobId}");
        }

        return null;
    }
}
