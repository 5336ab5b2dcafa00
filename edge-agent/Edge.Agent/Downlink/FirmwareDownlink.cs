using Edge.Agent.Uplink;
using Edge.Contracts.Downlink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>
/// Firmware offers from the cloud (<c>edge/v1/{gatewayId}/firmware</c>): checked, stored, and relayed retained to
/// <c>devices/{serial}/firmware</c>. The agent never downloads firmware; the device does, and reports progress.
/// </summary>
internal sealed class FirmwareDownlink(DeviceStateStore store, DevicePublisher publisher, ILogger<FirmwareDownlink> logger) : IDownlinkHandler
{
    public UplinkTopicKind Kind => UplinkTopicKind.Firmware;

    public async ValueTask HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!DeviceReplyReader.TryReadFirmwareOffer(payload.Span, out var offer, out var error))
        {
            Log.DownlinkRefused(logger, "firmware", offer?.Serial ?? "?", error);
            return;
        }

        var message = payload.ToArray();
        if (!await store.AcceptFirmwareOfferAsync(offer!, message))
        {
            return; // a re-send of the offer the device already has
        }

        await publisher.PublishFirmwareAsync(offer!.Serial, message, cancellationToken);
        Log.FirmwareRelayed(logger, offer.Serial, offer.Version, offer.JobId);
    }
}
