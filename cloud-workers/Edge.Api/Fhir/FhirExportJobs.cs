using System.Text.Json;
using Edge.Api.Registry;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Fhir;

/// <summary>One NDJSON file of an export: its resource type, its S3 key and how many resources (lines) it holds.</summary>
internal sealed record ExportFile(string Type, string Key, long Count);

/// <summary>A bulk export job as its row holds it.</summary>
/// <param name="Since">The kick-off's <c>_since</c>: only readings and reports received at or after it (null: all).</param>
internal sealed record ExportJob(
    Guid Id, string ClinicId, string RequestedBy, IReadOnlyList<string> Types, string RequestUrl, string ApiBase, string State,
    DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, string? Progress, IReadOnlyList<ExportFile> Output, string? Error, DateTimeOffset? Since = null)
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>The <c>fhir_export_jobs</c> table: queue a job, claim one (row lock, so one replica runs it), report progress and the end.</summary>
internal sealed class FhirExportJobs(RegistryStore registry)
{
    /// <summary>A running job whose runner has not written for this long is taken over (its replica stopped).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private const string Columns = "id, clinic_id, requested_by, types, request_url, api_base, state, requested_at, finished_at, progress, output::text, error, since";

    public async Task QueueAsync(ExportJob job, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand("""
            INSERT INTO fhir_export_jobs (id, clinic_id, requested_by, types, request_url, api_base, state, requested_at, since)
            VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8)
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = job.Id });
        command.Parameters.Add(RegistryStore.Text(job.ClinicId));
        command.Parameters.Add(RegistryStore.Text(job.RequestedBy));
        command.Parameters.Add(RegistryStore.TextArray([.. job.Types]));
        command.Parameters.Add(RegistryStore.Text(job.RequestUrl));
        command.Parameters.Add(RegistryStore.Text(job.ApiBase));
        command.Parameters.Add(RegistryStore.Time(job.RequestedAt));
        command.Parameters.Add(new NpgsqlParameter { Value = job.Since is { } since ? since : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ExportJob?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand($"SELECT {Columns} FROM fhir_export_jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The oldest queued job, or a running one whose runner went quiet, now marked running by this runner; null when none waits.</summary>
    public async Task<ExportJob?> ClaimAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand($"""
            UPDATE fhir_export_jobs SET state = 'running', started_at = $1, heartbeat_at = $1, progress = 'started', output = NULL
            WHERE id = (
                SELECT id FROM fhir_export_jobs
                WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < $2)
                ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING {Columns}
            """);
        command.Parameters.Add(RegistryStore.Time(now));
        command.Parameters.Add(RegistryStore.Time(now - StaleAfter));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Records how far the job got; false when it is no longer running here (cancelled, or taken over): the runner stops.</summary>
    public async Task<bool> ProgressAsync(Guid id, string progress, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand(
            "UPDATE fhir_export_jobs SET progress = $2, heartbeat_at = $3 WHERE id = $1 AND state = 'running'");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Text(progress));
        command.Parameters.Add(RegistryStore.Time(now));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Whether the job is still running (not cancelled): read between pages without moving the heartbeat.</summary>
    public async Task<bool> IsRunningAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand("SELECT state = 'running' FROM fhir_export_jobs WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>
    /// Cancels a job that is not cancelled yet (a DELETE on its status URL); the job as it was (its state and files), or
    /// null when there was none to cancel. A running job's runner sees it at its next page and stops.
    /// </summary>
    public async Task<ExportJob?> CancelAsync(Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand($"""
            UPDATE fhir_export_jobs j SET state = 'cancelled', finished_at = $2, progress = 'cancelled', output = NULL
            FROM (SELECT id, state AS was, output AS written FROM fhir_export_jobs WHERE id = $1 AND state <> 'cancelled' FOR UPDATE) old
            WHERE j.id = old.id
            RETURNING j.id, j.clinic_id, j.requested_by, j.types, j.request_url, j.api_base, old.was, j.requested_at, j.finished_at, j.progress,
                old.written::text, j.error, j.since
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Time(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Records the job's end; false when it was cancelled meanwhile (its files are the runner's to remove).</summary>
    public async Task<bool> FinishAsync(Guid id, IReadOnlyList<ExportFile>? output, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand("""
            UPDATE fhir_export_jobs SET state = $2, finished_at = $3, heartbeat_at = $3, output = $4::jsonb, error = $5,
                progress = CASE WHEN $2 = 'completed' THEN 'completed' ELSE 'failed' END
            WHERE id = $1 AND state = 'running'
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Text(error is null ? ExportJob.Completed : ExportJob.Failed));
        command.Parameters.Add(RegistryStore.Time(now));
        command.Parameters.Add(new NpgsqlParameter { Value = output is null ? DBNull.Value : OutputJson(output), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(RegistryStore.Text(error));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static string OutputJson(IReadOnlyList<ExportFile> files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var file in files)
            {
                writer.WriteStartObject();
                writer.WriteString("type", file.Type);
                writer.WriteString("key", file.Key);
                writer.WriteNumber("count", file.Count);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static ExportJob Read(NpgsqlDataReader r)
    {
        var output = new List<ExportFile>();
        if (!r.IsDBNull(10))
        {
            using var document = JsonDocument.Parse(r.GetString(10));
            foreach (var file in document.RootElement.EnumerateArray())
            {
                output.Add(new ExportFile(file.GetProperty("type").GetString()!, file.GetProperty("key").GetString()!, file.GetProperty("count").GetInt64()));
            }
        }
        return new ExportJob(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetFieldValue<string[]>(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.GetFieldValue<DateTimeOffset>(7), r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetString(9),
            output, r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12));
    }
}
