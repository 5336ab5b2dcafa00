using Edge.Contracts.Devices;

namespace Edge.Storage.Queries;

/// <summary>One page of a device's readings: <c>From &lt;= device time &lt; To</c>, in device time order with ties in arrival order (<see cref="TelemetryCursor"/>), after a cursor.</summary>
/// <param name="Serial">The device; its kind picks the store (<see cref="StoreFactory.For"/>).</param>
/// <param name="From">Inclusive lower bound on the device time.</param>
/// <param name="To">Exclusive upper bound on the device time.</param>
/// <param name="Limit">Rows per page; the caller validates it, the stores clamp it to 1-<see cref="TelemetryQuery.MaxLimit"/>.</param>
/// <param name="After">The previous page's <see cref="TelemetryPage.Next"/>, or null for the first page.</param>
/// <param name="AlarmsOnly">Only readings the gateway marked urgent or that carry the kind's own alarm signal.</param>
/// <param name="Filters">Inclusive bounds on metrics, all of which must hold; names from <see cref="ReadingMetrics"/>.</param>
/// <remarks>
/// <see cref="ReceivedWithin"/> restricts the page to readings whose gateway received time falls in one of the windows
/// (a clinic's ownership periods of the device); null reads every reading, an empty list none.
/// </remarks>
public sealed record TelemetryQuery(
    SerialNumber Serial,
    DateTimeOffset From,
    DateTimeOffset To,
    int Limit,
    TelemetryCursor? After,
    bool AlarmsOnly,
    IReadOnlyList<MetricFilter> Filters)
{
    /// <summary>The largest page a store returns, whatever the query asks for.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Only readings received in one of these windows; null: no restriction (an admin), empty: nothing.</summary>
    public IReadOnlyList<ReceivedWindow>? ReceivedWithin { get; init; }

    /// <summary><see cref="Limit"/> clamped to 1-<see cref="MaxLimit"/>.</summary>
    public int EffectiveLimit => Math.Clamp(Limit, 1, MaxLimit);
}

/// <summary>Inclusive bounds on one metric (<c>min.&lt;metric&gt;</c>, <c>max.&lt;metric&gt;</c>); a null bound is open.</summary>
/// <remarks>A reading without a value for the metric (an oxygen reading without <c>battery_pct</c>) never matches.</remarks>
public sealed record MetricFilter(string Metric, double? Min, double? Max);

/// <summary>One page of readings and the cursor of the next one.</summary>
/// <param name="Items">The readings, by device time, equal device times in arrival order (see <see cref="TelemetryCursor"/>).</param>
/// <param name="Next">Where the next page starts; null when this page is the last.</param>
public sealed record TelemetryPage(IReadOnlyList<TelemetryRow> Items, TelemetryCursor? Next)
{
    /// <summary>
    /// The page from up to <paramref name="limit"/> + 1 rows fetched in key order: the extra row only says that another
    /// page exists, so it is dropped and the cursor points after the last row kept.
    /// </summary>
    internal static TelemetryPage FromLimitPlusOne(List<TelemetryRow> rows, int limit)
    {
        if (rows.Count <= limit)
        {
            return new TelemetryPage(rows, null);
        }
        rows.RemoveRange(limit, rows.Count - limit);
        return new TelemetryPage(rows, rows[^1].Cursor);
    }
}

/// <summary>One stored reading as the telemetry API returns it.</summary>
/// <param name="Id">The reading id (<c>ReadingId.From(GatewayId, Epoch, Sequence)</c>).</param>
/// <param name="Serial">The device serial.</param>
/// <param name="DeviceTime">The reading's own timestamp, UTC (microseconds in PostgreSQL, milliseconds in MongoDB).</param>
/// <param name="GatewayReceivedAt">When the gateway journaled it.</param>
/// <param name="StoredAt">When a worker stored it.</param>
/// <param name="GatewayId">The gateway that journaled it.</param>
/// <param name="Epoch">The gateway journal's epoch.</param>
/// <param name="Sequence">The gateway journal's sequence number.</param>
/// <param name="Urgent">True when the gateway put it in the urgent lane.</param>
/// <param name="PayloadJson">
/// The device's payload as JSON, ready to write out as is. Oxygen and ECG: the payload the device sent, as stored in
/// <c>raw jsonb</c> (same content; key order and spacing are PostgreSQL's). CPAP/BiPAP: the stores keep no raw copy, so
/// it is rebuilt from the stored document (serial, timestamp as UTC, metrics, firmware); fields the contract does not
/// know are not kept.
/// </param>
public sealed record TelemetryRow(
    Guid Id,
    string Serial,
    DateTimeOffset DeviceTime,
    DateTimeOffset GatewayReceivedAt,
    DateTimeOffset StoredAt,
    string GatewayId,
    long Epoch,
    long Sequence,
    bool Urgent,
    string PayloadJson)
{
    /// <summary>The cursor that continues after this row.</summary>
    public TelemetryCursor Cursor => new(DeviceTime, GatewayReceivedAt, Epoch, Sequence, Id);
}
