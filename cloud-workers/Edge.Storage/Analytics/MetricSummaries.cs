using Edge.Contracts.Devices;
using Edge.Storage.Queries;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Analytics;

/// <summary>The readings of one device in <c>[from, to)</c> summed up by hour from the readings themselves, only those received in the query's windows.</summary>
internal delegate Task<IReadOnlyList<MetricHour>> PartialHours(SummaryQuery query, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

/// <summary>
/// A store's trend summaries (<see cref="IReadingQueries.SummarizeAsync"/>) read from its per-metric hourly rollup: the
/// whole hours of the range from the rollup (scoped to the caller's ownership windows as the analytics are), a partial
/// hour at either end summed up from the readings, days as sums of hours.
/// </summary>
/// <param name="metrics">The rollup's metrics, in the order of <see cref="MetricHour.Metrics"/>.</param>
/// <param name="hours">The rollup.</param>
/// <param name="partial">A partial hour from the readings.</param>
/// <param name="store">The store's name, for refusals.</param>
/// <param name="kinds">The device kinds the store keeps.</param>
internal sealed class MetricSummaries(IReadOnlyList<string> metrics, IHourlyRollups<MetricHour> hours, PartialHours partial, string store, params DeviceKind[] kinds)
{
    /// <summary>The summaries of a PostgreSQL store, its partial hours with the rollup's own aggregation over the reading table.</summary>
    public static MetricSummaries Postgres(NpgsqlDataSource dataSource, MetricRollup rollup, IHourlyRollups<MetricHour> hours, string store, params DeviceKind[] kinds)
    {
        // Readings of [$2, $3) of one device, only those received in the windows ($4, $5; NULL: all), by hour.
        var sql = rollup.Aggregate($"""
            ({rollup.RawSource} WHERE serial = $1 AND device_time >= $2 AND device_time < $3
                AND {ReceivedWindowSql.Covers("gateway_received_at", 4, 5)}) AS r
            """);
        return new MetricSummaries(rollup.Metrics, hours, async (query, from, to, cancellationToken) =>
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Serial.Value });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            var (fromParameter, toParameter) = ReceivedWindowSql.Parameters(query.ReceivedWithin);
            command.Parameters.Add(fromParameter);
            command.Parameters.Add(toParameter);
            var result = new List<MetricHour>(2);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                result.Add(rollup.Read(reader));
            }
            return result;
        }, store, kinds);
    }

    public async Task<IReadOnlyList<SummaryRow>> SummarizeAsync(SummaryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ReadingMetrics.Require(query.Serial, query.Metric, store, kinds);
        if (query.From >= query.To || query.ReceivedWithin is { Count: 0 })
        {
            return [];
        }

        var firstWhole = Ceiling(query.From);
        var endWhole = Floor(query.To);
        var collected = new List<MetricHour>();
        if (firstWhole >= endWhole)
        {
            // Less than a whole hour inside the range: at most two partial hours, from the readings.
            collected.AddRange(await partial(query, query.From, query.To, cancellationToken));
        }
        else
        {
            if (query.From < firstWhole)
            {
                collected.AddRange(await partial(query, query.From, firstWhole, cancellationToken));
            }
            var stored = await hours.HoursAsync([new RollupScope(query.Serial.Value, query.ReceivedWithin)], firstWhole, endWhole, cancellationToken);
            collected.AddRange(stored[query.Serial.Value]);
            if (endWhole < query.To)
            {
                collected.AddRange(await partial(query, endWhole, query.To, cancellationToken));
            }
        }
        return Buckets(collected, Index(query.Metric), query.Bucket);
    }

    /// <summary>The hours (or days: their hours added up) in which the metric had a value, in order.</summary>
    internal static IReadOnlyList<SummaryRow> Buckets(IReadOnlyList<MetricHour> collected, int metric, SummaryBucket bucket)
    {
        var rows = new List<SummaryRow>();
        DateTimeOffset? start = null;
        long count = 0, alarms = 0;
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var hour in collected)
        {
            var key = bucket switch
            {
                SummaryBucket.Hour => hour.Hour,
                SummaryBucket.Day => new DateTimeOffset(hour.Hour.UtcDateTime.Date, TimeSpan.Zero),
                _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown summary bucket"),
            };
            if (key != start)
            {
                Flush();
                start = key;
            }
            var stats = hour.Metrics[metric];
            alarms += hour.Alarms;
            if (stats.Count == 0)
            {
                continue;
            }
            count += stats.Count;
            sum += stats.Sum;
            min = Math.Min(min, stats.Min!.Value);
            max = Math.Max(max, stats.Max!.Value);
        }
        Flush();
        return rows;

        void Flush()
        {
            // A bucket in which no reading had a value for the metric is left out, as a scan of the readings would.
            if (start is { } at && count > 0)
            {
                rows.Add(new SummaryRow(at, count, min, sum / count, max) { Alarms = alarms });
            }
            count = 0;
            alarms = 0;
            sum = 0;
            min = double.PositiveInfinity;
            max = double.NegativeInfinity;
        }
    }

    private int Index(string metric)
    {
        for (var i = 0; i < metrics.Count; i++)
        {
            if (string.Equals(metrics[i], metric, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new ArgumentException($"the {store} store's rollup has no metric '{metric}'", nameof(metric));
    }

    private static DateTimeOffset Floor(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTimeOffset(utc.Date.AddHours(utc.Hour), TimeSpan.Zero);
    }

    private static DateTimeOffset Ceiling(DateTimeOffset time)
    {
        var floor = Floor(time);
        return floor == time ? floor : floor.AddHours(1);
    }
}
