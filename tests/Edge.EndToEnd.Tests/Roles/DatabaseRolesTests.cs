using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Edge.Storage;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Edge.EndToEnd.Tests.Roles;

/// <summary>
/// The API and the ingest worker run as their own PostgreSQL roles, migrations run as the owner at start, and neither
/// runtime role can rewrite the audit log or change the schema; nor can the owner rewrite the audit log.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class DatabaseRolesTests(PostgresServer postgres)
{
    private const string Serial = "OXY-9400-0007";

    [Fact]
    public async Task The_api_and_the_worker_run_end_to_end_as_their_own_roles()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        var (apiRole, workerRole) = await CreateRolesAsync();
        await using var api = await InProcessApi.StartAsync(As(cloud, apiRole), "--Stores:MigrationUsername=postgres");
        var admin = api.As("admin");
        (await admin.PostAsJsonAsync("/v1/clinics", new { id = "ward", name = "Ward" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/gateways", new { id = InProcessAgent.DefaultGatewayId, clinic_id = "ward", name = "Ward gateway" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "ward", gateway_id = InProcessAgent.DefaultGatewayId })).EnsureSuccessStatusCode();
        Assert.Equal(3, (await admin.GetFromJsonAsync<JsonElement>("/v1/audit")).GetProperty("items").GetArrayLength());

        // Local accounts as the API's role (users, user_clinics, refresh_tokens); the worker's role cannot read a password hash.
        (await admin.PostAsJsonAsync("/v1/users", new { username = "ward.nurse", display_name = "Nurse", password = "ward nurse password", roles = new[] { "clinician" }, clinics = new[] { "ward" } }))
            .EnsureSuccessStatusCode();
        var signIn = await api.Client(null).PostAsJsonAsync("/v1/auth/token", new { username = "ward.nurse", password = "ward nurse password" });
        var tokens = await signIn.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        (await api.Client(null).PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = tokens.GetProperty("refresh_token").GetString() })).EnsureSuccessStatusCode();
        await using (var worker = NpgsqlDataSource.Create(As(cloud, workerRole)))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(worker, "SELECT password_hash FROM users"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }

        await cloud.StartWorkerAsync("ingest-roles", settings: WorkerSettings(As(cloud, workerRole)));
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        using var viewer = new ClientWebSocket();
        viewer.Options.SetRequestHeader("Authorization", $"Bearer {api.Token("clinician", "ward")}");
        await viewer.ConnectAsync(new Uri($"ws://{api.BaseAddress.Authority}/v1/devices/{Serial}/live"), CancellationToken.None);
        Assert.Equal("subscribed", (await ReceiveAsync(viewer)).GetProperty("type").GetString());

        // A reading of two months ago: the worker, not the owner, creates that month's partition when it stores it.
        var deviceTime = DateTimeOffset.UtcNow.AddMonths(-2);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var payload = $$$"""{"serial":"{{{Serial}}}","timestamp":"{{{deviceTime.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}}}Z","metrics":{"oxygen_purity_pct":93.5,"flow_rate_lpm":2.0,"temperature_c":36.9}}""";
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", payload)).IsSuccess);

        var message = await ReceiveAsync(viewer);
        Assert.Equal("reading", message.GetProperty("type").GetString());
        Assert.Equal(93.5, message.GetProperty("reading").GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
        var telemetry = await admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{Serial}/telemetry?from={deviceTime.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}&to={DateTimeOffset.UtcNow.AddDays(1):yyyy-MM-ddTHH:mm:ssZ}");
        Assert.Equal(1, telemetry.GetProperty("items").GetArrayLength());
        // The worker marks the gateway seen (UPDATE gateways) right after the NOTIFY that woke the viewer.
        await Eventually.TrueAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>($"/v1/gateways/{InProcessAgent.DefaultGatewayId}")).GetProperty("last_seen_at").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(30), "the worker's role to mark the gateway seen");

        // The per-metric rollup the worker keeps beside the readings, read by the API's trend summary.
        var summary = await admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{Serial}/summary?metric=oxygen_purity_pct&bucket=day&from={deviceTime.AddDays(-1):yyyy-MM-ddTHH:mm:ssZ}&to={deviceTime.AddDays(1):yyyy-MM-ddTHH:mm:ssZ}");
        Assert.Equal(1, Assert.Single(summary.GetProperty("items").EnumerateArray()).GetProperty("count").GetInt64());

        // An alarm: the worker's role raises the alert (INSERT), the API's acknowledges and resolves it (UPDATE).
        var alarm = $$$"""{"serial":"{{{Serial}}}","timestamp":"{{{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fff}}}Z","metrics":{"oxygen_purity_pct":80.0,"flow_rate_lpm":2.0,"temperature_c":36.9}}""";
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", alarm)).IsSuccess);
        string? alertId = null;
        await Eventually.TrueAsync(async () =>
        {
            var alerts = await admin.GetFromJsonAsync<JsonElement>($"/v1/alerts?serial={Serial}");
            alertId = alerts.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()).FirstOrDefault();
            return alertId is not null;
        }, TimeSpan.FromSeconds(30), "the worker's role to raise the purity alert");
        (await admin.PostAsJsonAsync($"/v1/alerts/{alertId}/acknowledge", new { note = "seen" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/v1/alerts/{alertId}/resolve", new { note = "filter replaced" })).EnsureSuccessStatusCode();

        await using var owner = NpgsqlDataSource.Create(cloud.ConnectionString);
        var partition = $"oxygen_readings_{deviceTime.UtcDateTime:yyyy_MM}";
        Assert.Equal(1L, await ScalarAsync(owner, $"SELECT count(*) FROM {partition}"));

        // Retention as the worker's role: the month's partition is dropped through the owner's function, not by DDL of its own.
        await using var stores = new StoreFactory(Options.Create(new StorageOptions { Cpap = As(cloud, workerRole), Oxygen = As(cloud, workerRole), Ecg = As(cloud, workerRole), OxygenRetentionDays = 1 }), TimeProvider.System, NullLoggerFactory.Instance);
        Assert.True(await stores.Oxygen.ApplyRetentionAsync(DateTimeOffset.UtcNow, CancellationToken.None) >= 1);
        Assert.False((bool)(await ScalarAsync(owner, $"SELECT to_regclass('{partition}') IS NOT NULL"))!);
    }

    [Fact]
    public async Task Neither_runtime_role_can_rewrite_the_audit_log_or_change_the_schema_and_the_owner_cannot_rewrite_the_audit_log()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        var (apiRole, workerRole) = await CreateRolesAsync();
        await using (var api = await InProcessApi.StartAsync(As(cloud, apiRole), "--Stores:MigrationUsername=postgres"))
        {
            (await api.As("admin").PostAsJsonAsync("/v1/clinics", new { id = "ward", name = "Ward" })).EnsureSuccessStatusCode();
        }
        var worker = await cloud.StartWorkerAsync("ingest-roles", settings: WorkerSettings(As(cloud, workerRole)));
        await cloud.StopWorkerAsync(worker);

        foreach (var role in new[] { apiRole, workerRole })
        {
            await using var runtime = NpgsqlDataSource.Create(As(cloud, role) + ";Pooling=false");
            foreach (var attack in new[]
            {
                "UPDATE audit_log SET actor = 'someone-else'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
                "ALTER TABLE audit_log DISABLE TRIGGER USER",
                "CREATE TABLE smuggled (id int)",
                "DROP TABLE devices",
                "ALTER TABLE devices ADD COLUMN smuggled text",
                "CREATE FUNCTION smuggled() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                // The worker's partition functions serve the reading tables' monthly partitions and nothing else.
                "SELECT edge_create_month_partition('audit_log', date '2026-01-01')",
                "SELECT edge_drop_month_partition('oxygen_readings', 'oxygen_readings_default')",
                "SELECT edge_drop_month_partition('audit_log', 'audit_log')",
                // Neither rewrites what the ingest ledger kept: only the requeue columns (the API) or the reason and outcome
                // of a failed requeue (the worker) may change.
                "UPDATE ingest_dead_letters SET payload = ''::bytea",
                "UPDATE rejected_readings SET raw = ''::bytea, serial = 'OXY-0000-0000'",
            })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(runtime, attack));
                Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{role}: {attack} failed with {refused.SqlState} {refused.MessageText}, not a privilege refusal");
            }
        }

        // What a requeue needs, and no more: the API marks a row, the worker locks, updates and deletes it.
        await using (var api = NpgsqlDataSource.Create(As(cloud, apiRole) + ";Pooling=false"))
        {
            await ExecuteAsync(api, "UPDATE ingest_dead_letters SET requeue_requested_at = now(), requeue_attempted_at = NULL, requeue_outcome = NULL WHERE id = 1");
            await ExecuteAsync(api, "UPDATE rejected_readings SET requeue_requested_at = now() WHERE id = gen_random_uuid() RETURNING requeue_requested_at");
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(api, "DELETE FROM rejected_readings"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
        await using (var runtimeWorker = NpgsqlDataSource.Create(As(cloud, workerRole) + ";Pooling=false"))
        {
            await ExecuteAsync(runtimeWorker, """
                BEGIN;
                SELECT id FROM ingest_dead_letters WHERE requeue_requested_at IS NOT NULL AND requeue_attempted_at IS NULL LIMIT 1 FOR UPDATE SKIP LOCKED;
                UPDATE ingest_dead_letters SET reason = 'again', requeue_attempted_at = now(), requeue_outcome = 'failed again' WHERE id = 1;
                DELETE FROM rejected_readings WHERE id = gen_random_uuid();
                COMMIT;
                """);
        }

        // The API may read and append to the log; the worker may append (gateway events).
        await using (var api = NpgsqlDataSource.Create(As(cloud, apiRole) + ";Pooling=false"))
        {
            Assert.Equal(1L, await ScalarAsync(api, "SELECT count(*) FROM audit_log"));
        }

        // The owner (here a superuser) is stopped by the table's trigger, whatever its privileges.
        await using var owner = NpgsqlDataSource.Create(cloud.ConnectionString + ";Pooling=false");
        foreach (var attack in new[] { "UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log", "TRUNCATE audit_log" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(owner, attack));
            Assert.Contains("audit_log is append-only", refused.MessageText, StringComparison.Ordinal);
        }
        Assert.Equal(1L, await ScalarAsync(owner, "SELECT count(*) FROM audit_log"));
    }

    /// <summary>Two login roles with nothing granted, as an installer creates them; names unique on the shared server.</summary>
    private async Task<(string Api, string Worker)> CreateRolesAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..10];
        var (api, worker) = ($"edge_api_{suffix}", $"edge_worker_{suffix}");
        await using var admin = NpgsqlDataSource.Create(postgres.ConnectionString);
        await ExecuteAsync(admin, $"CREATE ROLE {api} LOGIN; CREATE ROLE {worker} LOGIN");
        return (api, worker);
    }

    private static string As(LocalCloud cloud, string role) => new NpgsqlConnectionStringBuilder(cloud.ConnectionString) { Username = role }.ConnectionString;

    private static Dictionary<string, string?> WorkerSettings(string connectionString) => new()
    {
        ["Stores:Cpap"] = connectionString,
        ["Stores:Oxygen"] = connectionString,
        ["Stores:Ecg"] = connectionString,
        ["Stores:MigrationUsername"] = "postgres",
    };

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    private static Task<JsonElement> ReceiveAsync(WebSocket socket) => WebSocketMessages.ReceiveJsonAsync(socket, TimeSpan.FromSeconds(60));
}
