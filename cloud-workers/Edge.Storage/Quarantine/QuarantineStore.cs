using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Quarantine;

/// <summary>Why a reading is held instead of stored: its serial is not an active device of the active gateway that sent it.</summary>
public static class QuarantineReasons
{
    /// <summary>The sending gateway is not in the registry.</summary>
    public const string UnknownGateway = "unknown-gateway";

    /// <summary>The sending gateway is retired.</summary>
    public const string RetiredGateway = "retired-gateway";

    /// <summary>The serial is not in the registry.</summary>
    public const string UnknownSerial = "unknown-serial";

    /// <summary>The serial is registered to another gateway, or to none.</summary>
    public const string OtherGateway = "other-gateway";

    /// <summary>The serial is registered to this gateway but retired.</summary>
    public const string RetiredDevice = "retired-device";

    public static readonly IReadOnlyList<string> All = [UnknownGateway, RetiredGateway, UnknownSerial, OtherGateway, RetiredDevice];

    public static bool IsKnown(string? reason) => reason is not null && All.Contains(reason);
}

/// <summary>One held reading: who sent it, under which journal identity, why it is held, and the payload as the device sent it.</summary>
/// <param name="Id">The reading id the stores would key it on (gateway, epoch, sequence), so holding and releasing are idempotent.</param>
/// <param name="GatewayId">The gateway that sent it (the topic's).</param>
/// <param name="Serial">The serial the device authenticated as on that gateway.</param>
/// <param name="Reason">One of <see cref="QuarantineReasons"/>.</param>
/// <param name="Epoch">The gateway journal's epoch.</param>
/// <param name="Sequence">The journal sequence.</param>
/// <param name="ReceivedAt">When the gateway received it (the gateway's clock).</param>
/// <param name="QuarantinedAt">When a worker held it (the cloud's clock); the window counts from here.</param>
/// <param name="Payload">The device's payload exactly as sent (JSON).</param>
public sealed record QuarantinedReading(
    Guid Id, string GatewayId, string Serial, string Reason, long Epoch, long Sequence, DateTimeOffset ReceivedAt, DateTimeOffset QuarantinedAt, string Payload);

/// <summary>Filters of the admins' quarantine list; null = any.</summary>
public sealed record QuarantineFilter(string? GatewayId, string? Serial, string? Reason);

/// <summary>
/// The quarantine table in the registry database (<c>quarantined_readings</c>, <see cref="Registry.RegistrySchema"/>):
/// readings a worker would not store because their serial is not an active device of the active gateway that sent
/// them. Nothing here is visible to a clinic; admins list it, workers release and expire it.
/// </summary>
public sealed class QuarantineStore(NpgsqlDataSource registry)
{
    public const int MaxLimit = 500;

    private const string Columns = "id, gateway_id, serial, reason, epoch, seq, received_at, quarantined_at, payload";

    // A re-sent batch (lost ack) holds nothing twice: the id is the reading's own.
    private const string InsertSql = $"""
        INSERT INTO quarantined_readings ({Columns})
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::timestamptz[], $8::timestamptz[], $9::text[])
        ON CONFLICT (id) DO NOTHING
        """;

    // What the registry now says belongs to the gateway that sent it, oldest first, within the window.
    private const string ReleasableSql = """
        SELECT q.id, q.gateway_id, q.serial, q.reason, q.epoch, q.seq, q.received_at, q.quarantined_at, q.payload
        FROM quarantined_readings q
        JOIN devices d ON d.serial = q.serial AND d.gateway_id = q.gateway_id AND d.status = 'active'
        JOIN gateways g ON g.id = q.gateway_id AND g.status = 'active'
        WHERE q.quarantined_at >= $1
        ORDER BY q.quarantined_at, q.id
        LIMIT $2
        """;

    /// <summary>Holds the readings (insert if absent); returns how many were not held before.</summary>
    public async Task<int> HoldAsync(IReadOnlyList<QuarantinedReading> readings, CancellationToken cancellationToken)
    {
        if (readings.Count == 0)
        {
            return 0;
        }
        await using var command = registry.CreateCommand(InsertSql);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. readings.Select(r => r.Id)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. readings.Select(r => r.GatewayId)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. readings.Select(r => r.Serial)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. readings.Select(r => r.Reason)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. readings.Select(r => r.Epoch)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. readings.Select(r => r.Sequence)] });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. readings.Select(r => r.ReceivedAt.UtcDateTime)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. readings.Select(r => r.QuarantinedAt.UtcDateTime)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. readings.Select(r => r.Payload)] });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> held readings held since <paramref name="since"/> whose serial is now an active device of their active gateway.</summary>
    public Task<List<QuarantinedReading>> ReleasableAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        QueryAsync(ReleasableSql, [Time(since), new NpgsqlParameter<int> { TypedValue = limit }], cancellationToken);

    /// <summary>Removes the readings (once they are in their store); returns how many this call removed, so concurrent releasers count each once.</summary>
    public async Task<int> RemoveAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand("DELETE FROM quarantined_readings WHERE id = ANY ($1)");
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes what was held before <paramref name="cutoff"/> and never released; returns how many.</summary>
    public async Task<int> ExpireAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand("DELETE FROM quarantined_readings WHERE quarantined_at < $1");
        command.Parameters.Add(Time(cutoff));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One page of the admins' list, newest first. <paramref name="after"/> is the last row of the previous page
    /// (keyset: quarantined_at, id), so rows held meanwhile never shift a page.
    /// </summary>
    public Task<List<QuarantinedReading>> ListAsync(QuarantineFilter filter, (DateTimeOffset At, Guid Id)? after, int take, CancellationToken cancellationToken) =>
        QueryAsync($"""
            SELECT {Columns} FROM quarantined_readings
            WHERE ($1::text IS NULL OR gateway_id = $1)
              AND ($2::text IS NULL OR serial = $2)
              AND ($3::text IS NULL OR reason = $3)
              AND ($4::timestamptz IS NULL OR (quarantined_at, id) < ($4, $5))
            ORDER BY quarantined_at DESC, id DESC
            LIMIT $6
            """,
            [Text(filter.GatewayId), Text(filter.Serial), Text(filter.Reason), Time(after?.At),
             new NpgsqlParameter { Value = (object?)after?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid }, new NpgsqlParameter<int> { TypedValue = take }],
            cancellationToken);

    private async Task<List<QuarantinedReading>> QueryAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        var rows = new List<QuarantinedReading>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new QuarantinedReading(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8)));
        }
        return rows;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = value is { } v ? v.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
