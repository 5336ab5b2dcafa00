using Edge.Api.Registry;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Fleet;

/// <summary>
/// Reads the fleet tables the workers keep (<c>gateway_health</c>, <c>device_presence</c>, <c>device_last_reading</c>,
/// <c>gateway_events</c>): one query per page of gateways or devices, keyed by their ids, so a list costs the same
/// whatever the fleet's size.
/// </summary>
internal sealed class FleetStore(NpgsqlDataSource registry, TimeProvider time, Microsoft.Extensions.Options.IOptions<FleetOptions> options)
{
    /// <summary>The gateways with their health (null before the first heartbeat).</summary>
    public async Task<List<Gateway>> WithHealthAsync(List<Gateway> gateways, CancellationToken cancellationToken)
    {
        if (gateways.Count == 0)
        {
            return gateways;
        }

        var onlineSince = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.OfflineAfterSeconds);
        await using var command = registry.CreateCommand("""
            SELECT gateway_id, received_at, backlog, oldest_unsynced_at, shed, certificate_not_after, agent_version, clock_synchronized, devices_connected
            FROM gateway_health WHERE gateway_id = ANY($1)
            """);
        command.Parameters.Add(Texts(gateways.Select(g => g.Id)));
        var health = new Dictionary<string, GatewayHealth>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var last = reader.GetFieldValue<DateTimeOffset>(1);
                health[reader.GetString(0)] = new GatewayHealth(last, last >= onlineSince, reader.GetInt64(2), OptionalTime(reader, 3), reader.GetInt64(4),
                    OptionalTime(reader, 5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetBoolean(7), reader.GetInt32(8));
            }
        }

        return [.. gateways.Select(g => g with { Health = health.GetValueOrDefault(g.Id) })];
    }

    /// <summary>The devices with their presence (unknown when their gateway never reported it).</summary>
    public async Task<List<Device>> WithPresenceAsync(List<Device> devices, CancellationToken cancellationToken)
    {
        if (devices.Count == 0)
        {
            return devices;
        }

        await using var command = registry.CreateCommand("""
            SELECT s.serial, p.state, p.since, r.last_reading_at
            FROM unnest($1::text[]) AS s (serial)
            LEFT JOIN device_presence p ON p.serial = s.serial
            LEFT JOIN device_last_reading r ON r.serial = s.serial
            """);
        command.Parameters.Add(Texts(devices.Select(d => d.Serial)));
        var presence = new Dictionary<string, DevicePresence>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                presence[reader.GetString(0)] = new DevicePresence(reader.IsDBNull(1) ? DevicePresence.Unknown : reader.GetString(1), OptionalTime(reader, 2), OptionalTime(reader, 3));
            }
        }

        return [.. devices.Select(d => d with { Presence = presence.GetValueOrDefault(d.Serial) ?? new DevicePresence(DevicePresence.Unknown, null, null) })];
    }

    /// <summary>A page of the gateway's recent events, newest first (by the gateway's time, then arrival), after the cursor's key.</summary>
    public async Task<List<(GatewayEventItem Item, long Seq)>> EventsAsync(string gatewayId, (DateTimeOffset At, long Seq)? after, int take, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand("""
            SELECT event_id, type, serial, at, status, version, job_id, reason, received_at, seq
            FROM gateway_events
            WHERE gateway_id = $1 AND ($2::timestamptz IS NULL OR (at, seq) < ($2, $3))
            ORDER BY at DESC, seq DESC LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gatewayId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } a ? a.At.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after?.Seq ?? 0 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take });
        var rows = new List<(GatewayEventItem, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((new GatewayEventItem(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetGuid(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8)), reader.GetInt64(9)));
        }

        return rows;
    }

    private static NpgsqlParameter<string[]> Texts(IEnumerable<string> values) =>
        new NpgsqlParameter<string[]> { TypedValue = [.. values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static DateTimeOffset? OptionalTime(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);
}
