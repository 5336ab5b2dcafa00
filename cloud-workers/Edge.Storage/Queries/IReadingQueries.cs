namespace Edge.Storage.Queries;

/// <summary>The read side of a reading store, for the cloud API's dashboards: keyset pages and hourly/daily summaries.</summary>
/// <remarks>
/// Check metric names with <see cref="ReadingMetrics.TryValidate(Edge.Contracts.Devices.DeviceKind, MetricFilter, out string)"/>
/// first: the stores throw <see cref="ArgumentException"/> for a metric their kind does not have, a bound that is not a
/// finite number, or a serial of another kind.
/// </remarks>
public interface IReadingQueries
{
    /// <summary>
    /// One page of a device's readings by device time, equal device times in arrival order (<see cref="TelemetryCursor"/>). Paging is stable while readings are stored: no reading
    /// is returned twice, and every reading stored before the first page is returned once. A reading stored later with a
    /// device time behind the cursor (a gateway catching up) is not returned by the pages still to come.
    /// </summary>
    Task<TelemetryPage> QueryAsync(TelemetryQuery query, CancellationToken cancellationToken);

    /// <summary>Per UTC hour or day: count, min, mean and max of the metric, ordered by bucket, empty buckets left out.</summary>
    Task<IReadOnlyList<SummaryRow>> SummarizeAsync(SummaryQuery query, CancellationToken cancellationToken);
}
