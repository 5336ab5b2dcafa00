using System.Text.Json;

namespace Edge.Api.Telemetry;

/// <summary>One stored reading: where it came from and the device's payload as sent (schemas in docs/schemas/v1/).</summary>
/// <param name="Id">The reading id, the same in every store and on every re-send.</param>
/// <param name="Epoch">The gateway journal's epoch; with <see cref="Seq"/> the reading's place in the gateway's journal.</param>
/// <param name="Urgent">True when the gateway classified it as urgent (alarm, arrhythmia, threshold crossed).</param>
/// <param name="Payload">The device payload as sent, valid against one of the JSON Schemas ../schemas/v1/cpap-telemetry.schema.json,
/// ../schemas/v1/oxygen-telemetry.schema.json or ../schemas/v1/ecg-telemetry.schema.json (relative to this document in docs/openapi/).</param>
internal sealed record TelemetryItem(
    Guid Id, string Serial, DateTimeOffset DeviceTime, DateTimeOffset GatewayReceivedAt, DateTimeOffset StoredAt,
    string GatewayId, long Epoch, long Seq, bool Urgent, JsonElement Payload);

/// <summary>A page of readings by device time, equal device times in arrival order, and the cursor of the next page (null on the last).</summary>
internal sealed record TelemetryPageResponse(string Serial, string Kind, IReadOnlyList<TelemetryItem> Items, string? NextCursor);

/// <summary>One bucket of a summary: how many readings, the metric's min, mean and max, and how many readings were alarms.</summary>
/// <param name="Count">Readings in the bucket with a value for the metric.</param>
/// <param name="Alarms">Readings in the bucket that are alarms (urgent, or the kind's alarm signal: an oxygen alarm code, an ECG arrhythmia), as alarms=true on the readings selects them.</param>
internal sealed record SummaryBucketItem(DateTimeOffset BucketStart, long Count, double Min, double Avg, double Max, long Alarms);

/// <summary>Per-hour or per-day statistics of one metric, for dashboards; empty buckets are left out.</summary>
internal sealed record SummaryResponse(string Serial, string Kind, string Metric, string Bucket, IReadOnlyList<SummaryBucketItem> Items);
