using System.Text.Json;
using Edge.Contracts.Downlink;
using Npgsql;
using NpgsqlTypes;
using static Edge.Storage.Downlink.ConfigPushes;

namespace Edge.Storage.Downlink;

/// <summary>A message for a gateway: a desired config or a firmware offer, with the topic kind it goes on.</summary>
public sealed record DownlinkMessage(string GatewayId, bool IsFirmware, string Serial, byte[] Payload);

/// <summary>
/// What the cloud still has to send to gateways: queued config versions and firmware offers, taken with a lease
/// (<c>FOR UPDATE SKIP LOCKED</c>, then the next send time moves on), so any number of worker replicas can send without
/// sending the same row twice at once. A row stays queued until the gateway reports it delivered; until then it is
/// sent again with a growing interval (a gateway that was offline gets it from its broker session or from a re-send,
/// and ignores copies it already has).
/// </summary>
public sealed class DownlinkOutbox(NpgsqlDataSource registry, TimeProvider time)
{
    /// <summary>First re-send interval; doubles with every send up to <see cref="MaxResend"/>.</summary>
    public static readonly TimeSpan FirstResend = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan MaxResend = TimeSpan.FromHours(1);

    private const string TakeConfigsSql = """
        WITH due AS (
            SELECT c.serial, c.version FROM device_configs c
            WHERE c.state = 'queued' AND c.next_send_at <= $1
              AND EXISTS (SELECT 1 FROM devices d WHERE d.serial = c.serial AND d.gateway_id IS NOT NULL AND d.status = 'active')
            ORDER BY c.next_send_at LIMIT $2
            FOR UPDATE OF c SKIP LOCKED)
        UPDATE device_configs c
        SET next_send_at = $1 + least(interval '30 seconds' * power(2, c.sends), interval '1 hour'), sends = c.sends + 1
        FROM due, devices d
        WHERE c.serial = due.serial AND c.version = due.version AND d.serial = c.serial
        RETURNING d.gateway_id, c.serial, c.version, c.config::text
        """;

    private const string TakeFirmwareSql = """
        WITH due AS (
            SELECT f.job_id, f.serial FROM firmware_job_devices f
            WHERE f.state = 'queued' AND f.next_send_at <= $1
              AND EXISTS (SELECT 1 FROM devices d WHERE d.serial = f.serial AND d.gateway_id IS NOT NULL AND d.status = 'active')
            ORDER BY f.next_send_at LIMIT $2
            FOR UPDATE OF f SKIP LOCKED)
        UPDATE firmware_job_devices f
        SET next_send_at = $1 + least(interval '30 seconds' * power(2, f.sends), interval '1 hour'), sends = f.sends + 1
        FROM due, devices d, firmware_jobs j
        WHERE f.job_id = due.job_id AND f.serial = due.serial AND d.serial = f.serial AND j.id = f.job_id
        RETURNING d.gateway_id, f.serial, j.id, j.version, j.url, j.sha256, f.queued_at
        """;

    /// <summary>Takes up to <paramref name="limit"/> due messages of each kind and schedules their next re-send.</summary>
    public async Task<IReadOnlyList<DownlinkMessage>> TakeDueAsync(int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var messages = new List<DownlinkMessage>();
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(TakeConfigsSql, connection))
        {
            command.Parameters.Add(Time(now));
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                messages.Add(new DownlinkMessage(reader.GetString(0), false, reader.GetString(1), ConfigMessages.Build(reader.GetString(1), reader.GetInt32(2), reader.GetString(3))));
            }
        }

        await using (var command = new NpgsqlCommand(TakeFirmwareSql, connection))
        {
            command.Parameters.Add(Time(now));
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var offer = new FirmwareOffer(reader.GetGuid(2), reader.GetString(1), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.GetFieldValue<DateTimeOffset>(6));
                messages.Add(new DownlinkMessage(reader.GetString(0), true, offer.Serial,
                    JsonSerializer.SerializeToUtf8Bytes(offer, DeviceRepliesJsonContext.Default.FirmwareOffer)));
            }
        }

        return messages;
    }

    /// <summary>
    /// Makes everything still queued for <paramref name="gatewayId"/>'s devices due now: the gateway said it is connected
    /// and subscribed, so waiting for the re-send interval would only delay what it may have missed without a session.
    /// </summary>
    public async Task SendNowAsync(string gatewayId, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        foreach (var table in new[] { "device_configs", "firmware_job_devices" })
        {
            await Execute(connection, null, $"""
                UPDATE {table} SET next_send_at = $2
                WHERE state = 'queued' AND next_send_at > $2 AND serial IN (SELECT serial FROM devices WHERE gateway_id = $1)
                """, cancellationToken, Text(gatewayId), Time(time.GetUtcNow()));
        }
    }

    /// <summary>Makes a row due now (after a send failed), so the next pass retries it instead of waiting for the re-send interval.</summary>
    public async Task RetrySoonAsync(DownlinkMessage message, CancellationToken cancellationToken)
    {
        var sql = message.IsFirmware
            ? "UPDATE firmware_job_devices SET next_send_at = $2 WHERE serial = $1 AND state = 'queued'"
            : "UPDATE device_configs SET next_send_at = $2 WHERE serial = $1 AND state = 'queued'";
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await Execute(connection, null, sql, cancellationToken, Text(message.Serial), Time(time.GetUtcNow()));
    }
}
