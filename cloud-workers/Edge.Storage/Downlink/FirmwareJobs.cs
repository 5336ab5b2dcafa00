using Npgsql;
using NpgsqlTypes;
using static Edge.Storage.Downlink.ConfigPushes;

namespace Edge.Storage.Downlink;

/// <summary>A firmware job: one version for one device kind, offered to a list of devices, each with its own progress.</summary>
public sealed record FirmwareJob(
    Guid Id,
    string Kind,
    string Version,
    string Url,
    string Sha256,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<FirmwareTarget> Devices);

/// <summary>
/// One device of a job: queued → delivered (the gateway relayed the offer) → downloading → installing → done | failed
/// (reason), or superseded by a newer job for the same device.
/// </summary>
public sealed record FirmwareTarget(
    string Serial,
    string State,
    string? Reason,
    int? Percent,
    DateTimeOffset QueuedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt);

public static class FirmwareJobs
{
    public static readonly IReadOnlyList<string> States = ["queued", "delivered", "downloading", "installing", "done", "failed", "superseded"];

    /// <summary>Creates the job and queues it for every device; a device's unfinished older job is superseded.</summary>
    public static async Task CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string kind, string version, string url, string sha256,
        IReadOnlyList<string> serials, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await Execute(connection, transaction, """
            INSERT INTO firmware_jobs (id, kind, version, url, sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, cancellationToken, new NpgsqlParameter<Guid> { TypedValue = id }, Text(kind), Text(version), Text(url), Text(sha256), Time(now), Text(actor));
        var serialArray = new NpgsqlParameter<string[]> { TypedValue = serials.ToArray() };
        await Execute(connection, transaction, """
            UPDATE firmware_job_devices SET state = 'superseded', updated_at = $2, finished_at = $2, next_send_at = NULL
            WHERE serial = ANY($1) AND state IN ('queued', 'delivered', 'downloading', 'installing')
            """, cancellationToken, serialArray, Time(now));
        await Execute(connection, transaction, """
            INSERT INTO firmware_job_devices (job_id, serial, state, queued_at, updated_at, next_send_at)
            SELECT $1, s, 'queued', $3, $3, $3 FROM unnest($2::text[]) AS s
            """, cancellationToken, new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<string[]> { TypedValue = serials.ToArray() }, Time(now));
    }

    public static async Task<FirmwareJob?> GetAsync(NpgsqlDataSource registry, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        await using var job = new NpgsqlCommand("SELECT kind, version, url, sha256, created_by, created_at FROM firmware_jobs WHERE id = $1", connection);
        job.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        string kind, version, url, sha256, createdBy;
        DateTimeOffset createdAt;
        await using (var reader = await job.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            (kind, version, url, sha256, createdBy, createdAt) =
                (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5));
        }

        await using var targets = new NpgsqlCommand("""
            SELECT serial, state, reason, percent, queued_at, delivered_at, updated_at, finished_at
            FROM firmware_job_devices WHERE job_id = $1 ORDER BY serial
            """, connection);
        targets.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        var devices = new List<FirmwareTarget>();
        await using (var reader = await targets.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                devices.Add(new FirmwareTarget(
                    reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7)));
            }
        }

        var counts = States.ToDictionary(s => s, s => devices.Count(d => d.State == s));
        return new FirmwareJob(id, kind, version, url, sha256, createdBy, createdAt, counts, devices);
    }
}
