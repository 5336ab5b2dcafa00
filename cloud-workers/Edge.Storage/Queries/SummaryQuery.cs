using Edge.Contracts.Devices;

namespace Edge.Storage.Queries;

/// <summary>The width of a summary bucket; buckets start on whole UTC hours or UTC midnights.</summary>
public enum SummaryBucket
{
    Hour,
    Day,
}

/// <summary>Count, minimum, mean and maximum of one metric of one device per UTC hour or day, <c>From &lt;= device time &lt; To</c>.</summary>
/// <param name="Serial">The device; its kind picks the store.</param>
/// <param name="Metric">A metric name from <see cref="ReadingMetrics"/> for the device's kind.</param>
/// <param name="From">Inclusive lower bound on the device time.</param>
/// <param name="To">Exclusive upper bound on the device time.</param>
/// <param name="Bucket">Hour or day.</param>
public sealed record SummaryQuery(SerialNumber Serial, string Metric, DateTimeOffset From, DateTimeOffset To, SummaryBucket Bucket)
{
    /// <summary>Only readings received in one of these windows; null: no restriction (an admin), empty: nothing.</summary>
    public IReadOnlyList<ReceivedWindow>? ReceivedWithin { get; init; }
}

/// <summary>One bucket of a summary; buckets without a reading are left out.</summary>
/// <param name="BucketStart">The start of the bucket, UTC.</param>
/// <param name="Count">Readings in the bucket that have a value for the metric.</param>
/// <param name="Min">The smallest value in the bucket.</param>
/// <param name="Avg">The arithmetic mean of the values in the bucket.</param>
/// <param name="Max">The largest value in the bucket.</param>
public sealed record SummaryRow(DateTimeOffset BucketStart, long Count, double Min, double Avg, double Max)
{
    /// <summary>Readings in the bucket that are alarms (the store's "alarms only" condition), with or without a value for the metric.</summary>
    public long Alarms { get; init; }
}
