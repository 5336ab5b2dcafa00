using System.Text.Json;
using Edge.Contracts.Uplink;
using Npgsql;
using NpgsqlTypes;
using static Edge.Storage.Downlink.ConfigPushes;

namespace Edge.Storage.Fleet;

/// <summary>What became of a heartbeat: recorded, or not (the gateway is not registered, or a newer one is already recorded).</summary>
public enum HeartbeatOutcome
{
    Recorded,
    Stale,
    UnknownGateway,
}

/// <summary>
/// Keeps each gateway's latest heartbeat (<c>gateway_health</c>): one row per gateway, replaced only by a heartbeat with a
/// newer gateway time, so replicas racing and a re-delivered message never move it backwards.
/// </summary>
public sealed class HeartbeatRecorder(NpgsqlDataSource registry)
{
    private const string UpsertSql = """
        WITH known AS (SELECT id FROM gateways WHERE id = $1),
        saved AS (
            INSERT INTO gateway_health (gateway_id, heartbeat_at, received_at, agent_version, interval_seconds, started_at, backlog,
                oldest_unsynced_at, shed, not_stored, certificate_not_after, clock_synchronized, skewed_devices, max_device_skew_seconds,
                devices_connected)
            SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15 FROM known
            ON CONFLICT (gateway_id) DO UPDATE SET
                heartbeat_at = EXCLUDED.heartbeat_at, received_at = EXCLUDED.received_at, agent_version = EXCLUDED.agent_version,
                interval_seconds = EXCLUDED.interval_seconds, started_at = EXCLUDED.started_at, backlog = EXCLUDED.backlog,
                oldest_unsynced_at = EXCLUDED.oldest_unsynced_at, shed = EXCLUDED.shed, not_stored = EXCLUDED.not_stored,
                certificate_not_after = EXCLUDED.certificate_not_after, clock_synchronized = EXCLUDED.clock_synchronized,
                skewed_devices = EXCLUDED.skewed_devices, max_device_skew_seconds = EXCLUDED.max_device_skew_seconds,
                devices_connected = EXCLUDED.devices_connected
            WHERE gateway_health.heartbeat_at < EXCLUDED.heartbeat_at
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM known), (SELECT count(*) FROM saved)
        """;

    public async Task<HeartbeatOutcome> RecordAsync(GatewayHeartbeat heartbeat, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(UpsertSql);
        command.Parameters.Add(Text(heartbeat.GatewayId));
        command.Parameters.Add(Time(heartbeat.At));
        command.Parameters.Add(Time(receivedAt));
        command.Parameters.Add(Text(heartbeat.AgentVersion));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.IntervalSeconds });
        command.Parameters.Add(Time(heartbeat.StartedAt));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = heartbeat.Backlog });
        command.Parameters.Add(OptionalTime(heartbeat.OldestUnsyncedAt));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = heartbeat.Shed });
        command.Parameters.Add(Text(JsonSerializer.Serialize(heartbeat.NotStored, HeartbeatJsonContext.Default.IReadOnlyDictionaryStringInt64)));
        command.Parameters.Add(OptionalTime(heartbeat.CertificateNotAfter));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)heartbeat.ClockSynchronized ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.SkewedDevices });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)heartbeat.MaxDeviceSkewSeconds ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = heartbeat.DevicesConnected });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) == 0 ? HeartbeatOutcome.UnknownGateway : reader.GetInt64(1) == 0 ? HeartbeatOutcome.Stale : HeartbeatOutcome.Recorded;
    }

    private static NpgsqlParameter OptionalTime(DateTimeOffset? value) =>
        value is { } v ? Time(v) : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
