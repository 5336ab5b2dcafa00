using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Queries;

/// <summary>
/// A span of gateway received times, <c>From &lt;= gateway_received_at &lt; To</c> (<see cref="To"/> null: still open): one
/// ownership period of a device, which limits what a clinic reads of the device's history.
/// </summary>
/// <remarks>
/// The gateway's received time, not the device's own timestamp, decides: the clinic's gateway stamps it when it journals
/// the reading, while a device's clock is whatever the device says (set back, a reading of the new clinic's patient would
/// land in the old clinic's period). A reading belongs to the clinic whose gateway took custody of it.
/// </remarks>
public sealed record ReceivedWindow(DateTimeOffset From, DateTimeOffset? To)
{
    /// <summary>Whether a reading received at <paramref name="receivedAt"/> falls in this window.</summary>
    public bool Contains(DateTimeOffset receivedAt) => receivedAt >= From && (To is null || receivedAt < To);
}

/// <summary>
/// SQL for filtering a timestamp column by <see cref="ReceivedWindow"/>s, for every table a clinic's history is read from
/// (readings, reports, config versions). The windows travel as two parallel array parameters; nothing is spliced in.
/// </summary>
public static class ReceivedWindowSql
{
    /// <summary>The windows as two timestamptz[] parameters; both SQL NULL when <paramref name="windows"/> is null (no restriction).</summary>
    public static (NpgsqlParameter From, NpgsqlParameter To) Parameters(IReadOnlyList<ReceivedWindow>? windows)
    {
        if (windows is null)
        {
            return (new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        }
        var from = new DateTime[windows.Count];
        var to = new DateTime?[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            from[i] = windows[i].From.UtcDateTime;
            to[i] = windows[i].To?.UtcDateTime;
        }
        return (new NpgsqlParameter<DateTime[]> { TypedValue = from, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
            new NpgsqlParameter<DateTime?[]> { TypedValue = to, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
    }

    /// <summary>
    /// A condition that holds when <paramref name="column"/> (a fixed column name, never request input) falls in one of the
    /// windows passed as parameters $<paramref name="fromParameter"/> and $<paramref name="toParameter"/>, or always when
    /// they are NULL.
    /// </summary>
    public static string Covers(string column, int fromParameter, int toParameter) => $"""
        (${fromParameter}::timestamptz[] IS NULL OR EXISTS (
            SELECT 1 FROM unnest(${fromParameter}::timestamptz[], ${toParameter}::timestamptz[]) AS owned (from_at, to_at)
            WHERE {column} >= owned.from_at AND (owned.to_at IS NULL OR {column} < owned.to_at)))
        """;
}
