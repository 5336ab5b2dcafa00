using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Downlink;
using Edge.Contracts.Validation;
using Npgsql;
using NpgsqlTypes;
using static Edge.Storage.Downlink.ConfigPushes;

namespace Edge.Storage.Downlink;

/// <summary>What became of one gateway event: applied, or ignored with the reason (it is acknowledged either way).</summary>
public sealed record EventOutcome(long Id, string Type, string Serial, string? Ignored);

/// <summary>
/// Applies a gateway's device-state events to the registry, idempotently and only forwards: a re-sent event, or one
/// older than what is recorded, changes nothing. A gateway may report only on devices registered to it (never trust a
/// gateway). One transaction per batch. Each applied event is also kept in <c>gateway_events</c> (the gateway's recent
/// events, <see cref="Fleet.FleetSchema"/>) for <see cref="HistoryDays"/> days.
/// </summary>
public sealed class GatewayEventRecorder(NpgsqlDataSource registry)
{
    /// <summary>How long a gateway's applied events are kept for <c>GET /v1/gateways/{id}/events</c>.</summary>
    public const int HistoryDays = 30;

    public async Task<IReadOnlyList<EventOutcome>> RecordAsync(string gatewayId, IReadOnlyList<GatewayEvent> events, CancellationToken cancellationToken)
    {
        var outcomes = new List<EventOutcome>(events.Count);
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var e in events.OrderBy(e => e.Id))
        {
            var ignored = await ApplyAsync(connection, transaction, gatewayId, e, cancellationToken);
            outcomes.Add(new EventOutcome(e.Id, e.Type, e.Serial, ignored));
            if (ignored is null)
            {
                await KeepAsync(connection, transaction, gatewayId, e, cancellationToken);
            }
        }

        await Execute(connection, transaction, $"DELETE FROM gateway_events WHERE gateway_id = $1 AND received_at < now() - interval '{HistoryDays} days'",
            cancellationToken, Text(gatewayId));

        await transaction.CommitAsync(cancellationToken);
        return outcomes;
    }

    private static async Task<string?> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, string gatewayId, GatewayEvent e, CancellationToken ct)
    {
        await using (var owner = new NpgsqlCommand("SELECT gateway_id FROM devices WHERE serial = $1", c, t))
        {
            owner.Parameters.Add(Text(e.Serial));
            var registeredTo = await owner.ExecuteScalarAsync(ct);
            if (registeredTo is not string registered || registered != gatewayId)
            {
                return registeredTo is null ? "the device is not registered" : $"the device is registered to another gateway";
            }
        }

        var at = Time(e.At);
        var serial = Text(e.Serial);
        var version = new NpgsqlParameter { Value = (object?)e.Version ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer };
        var job = new NpgsqlParameter { Value = (object?)e.JobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid };
        switch (e.Type)
        {
            case GatewayEvent.ConfigDelivered:
                return await Changed(Execute(c, t, """
                    UPDATE device_configs
                    SET state = CASE WHEN state = 'queued' THEN 'delivered' ELSE state END,
                        delivered_at = COALESCE(delivered_at, $3), next_send_at = NULL
                    WHERE serial = $1 AND version = $2
                    """, ct, serial, version, at), "no such config version");
            case GatewayEvent.ConfigApplied or GatewayEvent.ConfigRejected:
                var applied = e.Type == GatewayEvent.ConfigApplied;
                return await Changed(Execute(c, t, $"""
                    UPDATE device_configs
                    SET state = CASE WHEN state IN ('queued', 'delivered') THEN '{(applied ? "applied" : "rejected")}' ELSE state END,
                        {(applied ? "applied_at" : "rejected_at")} = COALESCE({(applied ? "applied_at" : "rejected_at")}, $3),
                        reason = CASE WHEN state IN ('queued', 'delivered') THEN $4 ELSE reason END,
                        delivered_at = COALESCE(delivered_at, $3), next_send_at = NULL
                    WHERE serial = $1 AND version = $2
                    """, ct, serial, version, at, Text(applied ? null : Truncate(e.Reason))), "no such config version");
            case GatewayEvent.ConfigOnSite:
                return await OnSiteAsync(c, t, gatewayId, e, ct);
            case GatewayEvent.FirmwareDelivered:
                return await Changed(Execute(c, t, """
                    UPDATE firmware_job_devices
                    SET state = CASE WHEN state = 'queued' THEN 'delivered' ELSE state END,
                        delivered_at = COALESCE(delivered_at, $3), updated_at = greatest(updated_at, $3), next_send_at = NULL
                    WHERE job_id = $2 AND serial = $1
                    """, ct, serial, job, at), "no such firmware job for the device");
            case GatewayEvent.FirmwareProgressed when e.Status is { } status && FirmwareProgress.Statuses.Contains(status):
                // Only forwards: never out of done or superseded, never back to an older report.
                return await Changed(Execute(c, t, """
                    UPDATE firmware_job_devices
                    SET state = $4, reason = $5, percent = COALESCE($6, percent), updated_at = $3,
                        delivered_at = COALESCE(delivered_at, $3), next_send_at = NULL,
                        finished_at = CASE WHEN $4 IN ('done', 'failed') THEN $3 END
                    WHERE job_id = $2 AND serial = $1 AND state NOT IN ('done', 'superseded') AND updated_at <= $3
                    """, ct, serial, job, at, Text(status), Text(Truncate(e.Reason)),
                    new NpgsqlParameter { Value = (object?)(e.Percent is >= 0 and <= 100 ? e.Percent : null) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer }),
                    "stale, finished or unknown firmware job");
            case GatewayEvent.DevicePresence when e.Status is GatewayEvent.Online or GatewayEvent.Offline:
                // Only forwards: a change is newer by the gateway's time (then, from the same gateway, by its event id).
                // A re-sent or late event finds a newer one recorded and changes nothing.
                return await Changed(Execute(c, t, """
                    INSERT INTO device_presence (serial, state, since, gateway_id, last_change_id, reason, recorded_at)
                    VALUES ($1, $2, $3, $4, $5, $6, now())
                    ON CONFLICT (serial) DO UPDATE SET
                        state = EXCLUDED.state, since = EXCLUDED.since, gateway_id = EXCLUDED.gateway_id,
                        last_change_id = EXCLUDED.last_change_id, reason = EXCLUDED.reason, recorded_at = EXCLUDED.recorded_at
                    WHERE device_presence.since < EXCLUDED.since
                       OR (device_presence.since = EXCLUDED.since AND device_presence.gateway_id = EXCLUDED.gateway_id
                           AND device_presence.last_change_id < EXCLUDED.last_change_id)
                    """, ct, serial, Text(e.Status), at, Text(gatewayId), new NpgsqlParameter<long> { TypedValue = e.Id }, Text(Truncate(e.Reason))),
                    "stale or repeated presence: a newer change is recorded");
            case GatewayEvent.DevicePresence:
                return "a presence event needs status online or offline";
            default:
                return $"unknown event type '{e.Type}'";
        }
    }

    /// <summary>
    /// The on-site rule: the technician's config becomes the next cloud version only if the cloud's newest version is
    /// still the one the gateway replaced. Otherwise the cloud changed meanwhile and wins: the on-site config is kept
    /// in the audit log only, and the cloud's newest version is sent again right away.
    /// </summary>
    private static async Task<string?> OnSiteAsync(NpgsqlConnection c, NpgsqlTransaction t, string gatewayId, GatewayEvent e, CancellationToken ct)
    {
        if (e.Version is not { } version || e.BaseVersion is not { } baseVersion || e.Config is not { } message)
        {
            return "an on-site config event needs version, baseVersion and config";
        }

        var serial = SerialNumber.Parse(e.Serial);
        var validated = PayloadValidator.ValidateConfig(JsonSerializer.SerializeToUtf8Bytes(message), serial);
        if (!validated.IsValid || !message.TryGetProperty("config", out var config))
        {
            return $"invalid on-site config: {validated.ErrorSummary()}";
        }

        await Execute(c, t, "SELECT 1 FROM devices WHERE serial = $1 FOR UPDATE", ct, Text(e.Serial));
        int latest;
        await using (var max = new NpgsqlCommand("SELECT COALESCE(max(version), 0) FROM device_configs WHERE serial = $1", c, t))
        {
            max.Parameters.Add(Text(e.Serial));
            latest = (int)(await max.ExecuteScalarAsync(ct))!;
        }

        var actor = $"{Truncate(e.Actor) ?? "on-site"} (on site, gateway {gatewayId})";
        if (latest >= version)
        {
            // Already recorded (a re-sent event) when that version is this on-site config; otherwise the cloud moved on.
            if (await IsRecordedOnSite(c, t, e.Serial, version, ct))
            {
                return null;
            }

            await Audit(c, t, e, actor, "config.on-site-overridden", message.GetRawText(), ct);
            await Execute(c, t, "UPDATE device_configs SET next_send_at = $2 WHERE serial = $1 AND version = $3 AND state = 'queued'", ct,
                Text(e.Serial), Time(e.At), new NpgsqlParameter<int> { TypedValue = latest });
            return $"the cloud's config changed since version {baseVersion}; version {latest} stays the desired config";
        }

        if (latest != baseVersion)
        {
            return $"base version {baseVersion} is not the cloud's newest ({latest})";
        }

        await Execute(c, t, """
            INSERT INTO device_configs (serial, version, config, source, created_at, created_by, state, base_version, delivered_at)
            VALUES ($1, $2, $3::jsonb, 'on-site', $4, $5, 'delivered', $6, $4)
            """, ct, Text(e.Serial), new NpgsqlParameter<int> { TypedValue = version }, Text(config.GetRawText()), Time(e.At), Text(actor),
            new NpgsqlParameter<int> { TypedValue = baseVersion });
        await Execute(c, t, "UPDATE devices SET config_version = $2 WHERE serial = $1", ct, Text(e.Serial), new NpgsqlParameter<int> { TypedValue = version });
        await Audit(c, t, e, actor, "config.on-site", message.GetRawText(), ct);
        return null;
    }

    private static async Task<bool> IsRecordedOnSite(NpgsqlConnection c, NpgsqlTransaction t, string serial, int version, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT source FROM device_configs WHERE serial = $1 AND version = $2", c, t);
        command.Parameters.Add(Text(serial));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        return await command.ExecuteScalarAsync(ct) is "on-site";
    }

    private static Task<int> Audit(NpgsqlConnection c, NpgsqlTransaction t, GatewayEvent e, string actor, string action, string after, CancellationToken ct) =>
        Execute(c, t, """
            INSERT INTO audit_log (at, actor, role, action, target_type, target_id, clinic_id, before, after)
            SELECT $1, $2, 'technician', $3, 'device_config', $4, clinic_id, NULL, $5::jsonb FROM devices WHERE serial = $4
            """, ct, Time(e.At), Text(actor), Text(action), Text(e.Serial), Text(after));

    private static Task<int> KeepAsync(NpgsqlConnection c, NpgsqlTransaction t, string gatewayId, GatewayEvent e, CancellationToken ct) =>
        Execute(c, t, """
            INSERT INTO gateway_events (gateway_id, event_id, type, serial, at, status, version, job_id, reason, received_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
            ON CONFLICT ON CONSTRAINT gateway_events_once DO NOTHING
            """, ct, Text(gatewayId), new NpgsqlParameter<long> { TypedValue = e.Id }, Text(e.Type), Text(e.Serial), Time(e.At), Text(Truncate(e.Status)),
            new NpgsqlParameter { Value = (object?)e.Version ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
            new NpgsqlParameter { Value = (object?)e.JobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
            Text(Truncate(e.Reason)));

    private static async Task<string?> Changed(Task<int> update, string reasonWhenNothing) => await update > 0 ? null : reasonWhenNothing;

    private static string? Truncate(string? text) => text is { Length: > 500 } ? text[..500] : text;
}
