using System.Text.Json;
using Edge.Storage.Queries;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Downlink;

/// <summary>
/// Desired config versions in the registry (<c>device_configs</c>). The cloud is the source of truth: versions are
/// numbered here, a new one supersedes every older one not yet answered by the device, and
/// <c>devices.config_version</c> always names the newest (the alert thresholds follow it).
/// </summary>
public static class ConfigPushes
{
    internal const string Columns = """
        serial, version, state, reason, source, base_version, config::text, created_by, created_at, delivered_at, applied_at,
        rejected_at, superseded_at
        """;

    /// <summary>
    /// Stores <paramref name="configJson"/> (the kind's <c>config</c> object, already validated) as the next version,
    /// queued for sending; also returns the newest version before it, read under the same lock (for the audit entry).
    /// </summary>
    public static async Task<(ConfigVersion? Previous, ConfigVersion Pushed)> PushAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string serial, string configJson, string actor, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // The device row lock orders concurrent pushes for one device: versions never collide or interleave.
        await Execute(connection, transaction, "SELECT 1 FROM devices WHERE serial = $1 FOR UPDATE", cancellationToken, Text(serial));
        var previous = await ReadAsync(connection, transaction, $"SELECT {Columns} FROM device_configs WHERE serial = $1 ORDER BY version DESC LIMIT 1",
            cancellationToken, Text(serial));
        await Execute(connection, transaction, """
            UPDATE device_configs SET state = 'superseded', superseded_at = $2, next_send_at = NULL
            WHERE serial = $1 AND state IN ('queued', 'delivered')
            """, cancellationToken, Text(serial), Time(now));
        var version = await ReadAsync(connection, transaction, $"""
            INSERT INTO device_configs (serial, version, config, source, created_at, created_by, state, next_send_at)
            VALUES ($1, COALESCE((SELECT max(version) FROM device_configs WHERE serial = $1), 0) + 1, $2::jsonb, 'cloud', $3, $4, 'queued', $3)
            RETURNING {Columns}
            """, cancellationToken, Text(serial), Text(configJson), Time(now), Text(actor));
        await Execute(connection, transaction, "UPDATE devices SET config_version = $2 WHERE serial = $1", cancellationToken,
            Text(serial), new NpgsqlParameter<int> { TypedValue = version!.Version });
        return (previous, version);
    }

    /// <summary>
    /// The newest version, or a given one; null when there is none. With <paramref name="createdWithin"/> (a clinic's
    /// ownership periods of the device) only versions created in one of them count.
    /// </summary>
    public static async Task<ConfigVersion?> GetAsync(
        NpgsqlDataSource registry, string serial, int? version, IReadOnlyList<ReceivedWindow>? createdWithin, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        var (from, to) = ReceivedWindowSql.Parameters(createdWithin);
        return await ReadAsync(connection, null, $"""
            SELECT {Columns} FROM device_configs
            WHERE serial = $1 AND ($2::integer IS NULL OR version = $2) AND {ReceivedWindowSql.Covers("created_at", 3, 4)}
            ORDER BY version DESC LIMIT 1
            """, cancellationToken, Text(serial), new NpgsqlParameter { Value = (object?)version ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer }, from, to);
    }

    /// <summary>Versions newest first, below <paramref name="beforeVersion"/> when given (keyset paging), created within the windows when given.</summary>
    public static async Task<IReadOnlyList<ConfigVersion>> ListAsync(
        NpgsqlDataSource registry, string serial, int? beforeVersion, int limit, IReadOnlyList<ReceivedWindow>? createdWithin, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            SELECT {Columns} FROM device_configs
            WHERE serial = $1 AND ($2::integer IS NULL OR version < $2) AND {ReceivedWindowSql.Covers("created_at", 4, 5)}
            ORDER BY version DESC LIMIT $3
            """, connection);
        command.Parameters.Add(Text(serial));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var (from, to) = ReceivedWindowSql.Parameters(createdWithin);
        command.Parameters.Add(from);
        command.Parameters.Add(to);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<ConfigVersion>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    internal static ConfigVersion Read(NpgsqlDataReader r)
    {
        using var config = JsonDocument.Parse(r.GetString(6));
        return new ConfigVersion(
            r.GetString(0), r.GetInt32(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4),
            r.IsDBNull(5) ? null : r.GetInt32(5), config.RootElement.Clone(), r.GetString(7), r.GetFieldValue<DateTimeOffset>(8),
            Optional(r, 9), Optional(r, 10), Optional(r, 11), Optional(r, 12));
    }

    internal static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static NpgsqlParameter Time(DateTimeOffset value) => new NpgsqlParameter<DateTime> { TypedValue = value.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    internal static async Task<int> Execute(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<ConfigVersion?> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static DateTimeOffset? Optional(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);
}
