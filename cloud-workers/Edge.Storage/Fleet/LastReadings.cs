using Edge.Storage.Live;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Fleet;

/// <summary>
/// Keeps each device's newest stored device time (<c>device_last_reading</c>, the <c>last_reading_at</c> of its presence):
/// one statement per stored batch, moved only forwards, so the API reads it without touching the reading stores. Rows
/// are upserted in serial order: worker connections store batches of the same devices at once, and two upserts that
/// lock the same rows in different orders deadlock (40P01), losing one batch's update.
/// </summary>
public static class LastReadings
{
    private const string TouchSql = """
        INSERT INTO device_last_reading (serial, last_reading_at)
        SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS stored (serial, at) ORDER BY serial
        ON CONFLICT (serial) DO UPDATE SET last_reading_at = EXCLUDED.last_reading_at
        WHERE device_last_reading.last_reading_at < EXCLUDED.last_reading_at
        """;

    public static async Task TouchAsync(NpgsqlDataSource registry, IReadOnlyList<StoredRange> stored, CancellationToken cancellationToken)
    {
        if (stored.Count == 0)
        {
            return;
        }

        await using var command = registry.CreateCommand(TouchSql);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. stored.Select(r => r.Serial)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. stored.Select(r => r.To.UtcDateTime)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
