using System.Runtime.CompilerServices;
using Npgsql;

namespace Edge.Storage.Postgres;

/// <summary>
/// The privileges each runtime role holds, table by table, granted by the schema owner after every migration it runs,
/// so a table exists before it is granted and a new one is granted at the start that creates it. Anything not listed
/// is not granted: no DDL (no CREATE on the schema, no ownership), no UPDATE or DELETE on <c>audit_log</c>, no
/// TRUNCATE anywhere. Partitions are created and dropped through the owner's functions (<see cref="PartitionFunctions"/>).
/// </summary>
internal static class RuntimeGrants
{
    private const string Dml = "SELECT, INSERT, UPDATE";
    private const string ApiRequeueColumns = "requeue_requested_at, requeue_attempted_at, requeue_outcome";
    private const string WorkerRequeueColumns = "reason, requeue_attempted_at, requeue_outcome";

    // (table, the API's privileges, the worker's). UPDATE also covers SELECT … FOR UPDATE. Whole-row DELETE only where
    // code deletes: retention (ledger, the default partitions), a subscription's pending deliveries, released readings.
    // A table missing from a database (another store's, or one a later migration adds) is skipped until it exists.
    private static readonly (string Table, string Api, string Worker)[] Matrix =
    [
        ("schema_migrations", "SELECT", "SELECT"),
        ("clinics", Dml, "SELECT"),
        ("gateways", Dml, "SELECT, UPDATE"),
        ("devices", Dml, "SELECT, UPDATE"),
        ("device_configs", Dml, Dml),
        ("audit_log", "SELECT, INSERT", "INSERT"),
        ("firmware_jobs", "SELECT, INSERT", "SELECT"),
        ("firmware_job_devices", Dml, "SELECT, UPDATE"),
        ("gateway_certificates", "SELECT, INSERT", "SELECT"),
        // Alerts: the workers raise them and resolve a silent gateway's when it is heard again (and their sweeps raise
        // and resolve); the API's people acknowledge and resolve them. Nobody deletes one.
        ("alerts", "SELECT, UPDATE", "SELECT, INSERT, UPDATE"),
        ("webhook_subscriptions", Dml, "SELECT"),
        ("webhook_deliveries", "SELECT, UPDATE, DELETE", Dml),
        ("ecg_reports", "SELECT, INSERT", "SELECT, INSERT"),
        ("cpap_device_data", "SELECT", "SELECT, INSERT"),
        ("cpap_device_data_default", "", "SELECT, DELETE"),
        ("oxygen_readings", "SELECT", "SELECT, INSERT"),
        ("oxygen_readings_default", "", "SELECT, DELETE"),
        ("ecg_readings", "SELECT", "SELECT, INSERT"),
        ("ecg_readings_default", "", "SELECT, DELETE"),
        // Hourly rollups (per kind and per metric): the workers add to them as they store readings and apply retention; the API reads them.
        ("cpap_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        ("oxygen_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        ("ecg_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        ("cpap_metric_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        ("oxygen_metric_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        ("ecg_metric_hourly", "SELECT", "SELECT, INSERT, UPDATE, DELETE"),
        // Admins list them and ask for a requeue: the API may set the requeue columns, never a payload or a reason. The
        // workers record, requeue (a row lock, then DELETE when stored or UPDATE of the reason and outcome) and apply
        // retention. Column lists are granted only once the columns exist (ledger migration 2).
        ("ingest_dead_letters", $"SELECT, UPDATE ({ApiRequeueColumns})", $"SELECT, INSERT, DELETE, UPDATE ({WorkerRequeueColumns})"),
        ("rejected_readings", $"SELECT, UPDATE ({ApiRequeueColumns})", $"SELECT, INSERT, DELETE, UPDATE ({WorkerRequeueColumns})"),
        // Which clinic held a device when: the API opens and closes the periods and filters every history read by them.
        ("device_ownership", Dml, ""),
        // Readings no clinic may see yet: the workers hold, release (delete) and expire them; admins list them.
        ("quarantined_readings", "SELECT", "SELECT, INSERT, DELETE"),
        // Local accounts: only the API signs users in and manages them; the workers never read a password hash. A user's
        // clinics are replaced whole (DELETE then INSERT); refresh tokens are revoked, never deleted by the API.
        ("users", Dml, ""),
        // FHIR bulk export jobs: the API queues, claims, runs and reports them; the workers never see them.
        ("fhir_export_jobs", Dml, ""),
        ("user_clinics", "SELECT, INSERT, DELETE", ""),
        ("refresh_tokens", Dml, ""),
        // Fleet health: the workers record heartbeats, presence and the gateways' recent events (and expire those); the API reads.
        ("gateway_health", "SELECT", Dml),
        ("device_presence", "SELECT", Dml),
        ("device_last_reading", "SELECT", Dml),
        ("gateway_events", "SELECT", "SELECT, INSERT, DELETE"),
    ];

    // The owner's data sources that grant, and to whom: set up by StoreFactory.Migrations, read by SchemaMigrator.
    private static readonly ConditionalWeakTable<NpgsqlDataSource, Grantee> Plans = [];

    private sealed record Grantee(string Username, DatabaseRole Role);

    /// <summary>After each migration through <paramref name="owner"/>, <paramref name="username"/> gets <paramref name="role"/>'s privileges.</summary>
    public static void Plan(NpgsqlDataSource owner, string username, DatabaseRole role) => Plans.AddOrUpdate(owner, new Grantee(username, role));

    /// <summary>Grants the planned role its privileges on the tables that exist now, in the migration's transaction.</summary>
    public static async Task ApplyAsync(NpgsqlDataSource dataSource, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (!Plans.TryGetValue(dataSource, out var grantee) || grantee.Role == DatabaseRole.Owner)
        {
            return;
        }
        var role = Quote(grantee.Username);
        var batch = new NpgsqlBatch(connection, transaction);
        await using (batch)
        {
            // Usage only: the schema's objects are reachable, none can be created (PostgreSQL 15 gives PUBLIC no CREATE).
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"REVOKE CREATE ON SCHEMA public FROM {role}"));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"GRANT USAGE ON SCHEMA public TO {role}"));
            foreach (var (table, api, worker) in Matrix)
            {
                var privileges = grantee.Role == DatabaseRole.Api ? api : worker;
                if (!await ExistsAsync(connection, transaction, table, cancellationToken)
                    || !await ColumnsExistAsync(connection, transaction, table, privileges, cancellationToken))
                {
                    continue;
                }
                // Exactly the list: a privilege granted by an earlier build and no longer needed is taken back.
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"REVOKE ALL ON {table} FROM {role}"));
                if (privileges.Length > 0)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"GRANT {privileges} ON {table} TO {role}"));
                }
                if (privileges.Contains("INSERT", StringComparison.Ordinal) && await SerialSequenceAsync(connection, transaction, table, cancellationToken) is { } sequence)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"GRANT USAGE ON SEQUENCE {sequence} TO {role}"));
                }
            }
            if (grantee.Role == DatabaseRole.Worker && await ExistsAsync(connection, transaction, PartitionFunctions.CreateSignature, cancellationToken, function: true))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"GRANT EXECUTE ON FUNCTION {PartitionFunctions.CreateSignature}, {PartitionFunctions.DropSignature} TO {role}"));
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, CancellationToken cancellationToken, bool function = false)
    {
        await using var command = new NpgsqlCommand(function ? "SELECT to_regprocedure($1) IS NOT NULL" : "SELECT to_regclass($1) IS NOT NULL", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    // A column list names columns a later migration of the table's own store adds; until it ran, the table keeps its grants.
    private static async Task<bool> ColumnsExistAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string privileges, CancellationToken cancellationToken)
    {
        var open = privileges.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return true;
        }
        var columns = privileges[(open + 1)..privileges.IndexOf(')', open)].Split(',', StringSplitOptions.TrimEntries);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = ANY ($2) AND NOT attisdropped", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = columns });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == columns.Length;
    }

    private static async Task<string?> SerialSequenceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pg_get_serial_sequence($1, a.attname) FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND pg_get_serial_sequence($1, a.attname) IS NOT NULL LIMIT 1",
            connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    // Role names come from the operator's connection strings: quoted as identifiers, never pasted raw into SQL.
    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
