using System.Text.Json;
using Edge.Api.Registry;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Fhir;

/// <summary>One NDJSON file of an export: its resource type, its S3 key and how many resources (lines) it holds.</summary>
public sealed record ExportFile(string Type, string Key, long Count);

/// <summary>A bulk export job as its row holds it.</summary>
public sealed record ExportJob(
    Guid Id, string ClinicId, string RequestedBy, IReadOnlyList<string> Types, string RequestUrl, string ApiBase, string State,
    DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, string? Progress, IReadOnlyList<ExportFile> Output, string? Error)
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>The <c>fhir_export_jobs</c> table: queue a job, claim one (row lock, so one replica runs it), report progress and the end.</summary>
public sealed class FhirExportJobs(RegistryStore registry)
{
    /// <summary>A running job whose runner has not written for this long is taken over (its replica stopped).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private const string Columns = "id, clinic_id, requested_by, types, request_url, api_base, state, requested_at, finished_at, progress, output::text, error";

    public async Task QueueAsync(ExportJob job, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand("""
            INSERT INTO fhir_export_jobs (id, clinic_id, requested_by, types, request_url, api_base, state, requested_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = job.Id });
        command.Parameters.Add(RegistryStore.Text(job.ClinicId));
        command.Parameters.Add(RegistryStore.Text(job.RequestedBy));
        command.Parameters.Add(RegistryStore.TextArray([.. job.Types]));
        command.Parameters.Add(RegistryStore.Text(job.RequestUrl));
        command.Parameters.Add(RegistryStore.Text(job.ApiBase));
        command.Parameters.Add(RegistryStore.Time(job.RequestedAt));
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

    public async Task ProgressAsync(Guid id, string progress, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand(
            "UPDATE fhir_export_jobs SET progress = $2, heartbeat_at = $3 WHERE id = $1 AND state = 'running'");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Text(progress));
        command.Parameters.Add(RegistryStore.Time(now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task FinishAsync(Guid id, IReadOnlyList<ExportFile>? output, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = registry.DataSource.CreateCommand("""
            UPDATE fhir_export_jobs SET state = $2, finished_at = $3, heartbeat_at = $3, output = $4::jsonb, error = $5,
                progress = CASE WHEN $2 = 'completed' THEN 'completed' ELSE 'failed' END
            WHERE id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Text(error is null ? ExportJob.Completed : ExportJob.Failed));
        command.Parameters.Add(RegistryStore.Time(now));
        command.Parameters.Add(new NpgsqlParameter { Value = output is null ? DBNull.Value : OutputJson(output), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(RegistryStore.Text(error));
        await command.ExecuteNonQueryAsync(cancellationToken);
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
            output, r.IsDBNull(11) ? null : r.GetString(11));
    }
}
