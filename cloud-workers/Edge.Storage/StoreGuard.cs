using Edge.Contracts.Identity;
using Edge.Contracts.Payloads;

namespace Edge.Storage;

/// <summary>Refuses a batch that is not what the store expects, before anything is written.</summary>
internal static class StoreGuard
{
    /// <summary>
    /// Every reading must be a <typeparamref name="T"/>, carry a parsed serial and a gateway id, have the id its
    /// journal identity gives and the content id its serial and payload give. A caller that made up either (a random
    /// GUID, say) would turn every re-send into a duplicate; checking costs one SHA-1 and one SHA-256 per reading, a
    /// few microseconds.
    /// </summary>
    public static void RequireAll<T>(IReadOnlyList<StoredReading> readings, string store) where T : Telemetry
    {
        ArgumentNullException.ThrowIfNull(readings);
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i] ?? throw new ArgumentException($"readings[{i}] is null", nameof(readings));
            if (reading.Reading is not T)
            {
                throw new ArgumentException(
                    $"readings[{i}] ({reading.Serial}) is a {reading.Reading?.GetType().Name ?? "null reading"}; the {store} store takes {typeof(T).Name}",
                    nameof(readings));
            }
            if (reading.Serial.Value is null || string.IsNullOrEmpty(reading.GatewayId))
            {
                throw new ArgumentException($"readings[{i}] has no serial or no gateway id", nameof(readings));
            }
            if (reading.Id != ReadingId.From(reading.GatewayId, reading.Epoch, reading.Sequence))
            {
                throw new ArgumentException(
                    $"readings[{i}] has id {reading.Id}, but gateway {reading.GatewayId}, epoch {reading.Epoch}, sequence {reading.Sequence} " +
                    "give another: ids must come from ReadingId.From, or re-sends would be stored twice",
                    nameof(readings));
            }
            if (reading.ContentId != ContentId.From(reading.Serial.Value, reading.RawJson.Span))
            {
                throw new ArgumentException(
                    $"readings[{i}] ({reading.Serial}, sequence {reading.Sequence}) has content id {reading.ContentId}, but its serial and payload " +
                    "give another: content ids must come from ContentId.From, or a device's re-sends would be stored twice",
                    nameof(readings));
            }
        }
    }
}
