using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;

namespace Edge.Storage;

/// <summary>One validated reading on its way into a store, with the journal identity it was sent under and its content identity.</summary>
/// <param name="Id">The reading id, <see cref="Edge.Contracts.Identity.ReadingId.From"/>(GatewayId, Epoch, Sequence); stores key on it.</param>
/// <param name="ContentId">The reading's own identity, <see cref="Edge.Contracts.Identity.ContentId.From"/>(Serial, RawJson): the same for a
/// device's re-send however the gateway journaled it; stores keep it unique, so a reading is stored once.</param>
/// <param name="GatewayId">The clinic gateway that journaled the reading.</param>
/// <param name="Epoch">The gateway journal's epoch (new only when a journal file is created).</param>
/// <param name="Sequence">The journal sequence number, monotonic within an epoch.</param>
/// <param name="Serial">The device serial; its kind picks the store.</param>
/// <param name="DeviceTime">The reading's own timestamp (the device clock); stores partition and order by it.</param>
/// <param name="GatewayReceivedAt">When the gateway journaled it (the gateway clock).</param>
/// <param name="Urgent">True when the gateway classified it as urgent (alarm, arrhythmia, threshold crossed).</param>
/// <param name="RawJson">The payload exactly as the device sent it (UTF-8 JSON).</param>
/// <param name="Reading">The already-validated record: <see cref="CpapTelemetry"/>, <see cref="OxygenTelemetry"/> or <see cref="EcgTelemetry"/>.</param>
public sealed record StoredReading(
    Guid Id,
    Guid ContentId,
    string GatewayId,
    long Epoch,
    long Sequence,
    SerialNumber Serial,
    DateTimeOffset DeviceTime,
    DateTimeOffset GatewayReceivedAt,
    bool Urgent,
    ReadOnlyMemory<byte> RawJson,
    Telemetry Reading);
