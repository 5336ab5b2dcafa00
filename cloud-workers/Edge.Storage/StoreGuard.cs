using Edge.Contracts.Identity;
using Edge.Contracts.Payloads;

namespace Edge.Storage;

/// <summary>Refuses a batch that is not what the store expects, before anything is written.</summary>
internal static class StoreGuard
{
    /// <summary>
    /// Every reading must be a <typeparamref name="T"/>, carry a parsed serial and a gateway id, and have the id its
    /// journal identity gives. A caller that made up ids (a random GUID, say) would turn every re-send into a duplicate;
    /// checking costs one SHA-1 per reading, about a microsecond.
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
        }
    }
}
