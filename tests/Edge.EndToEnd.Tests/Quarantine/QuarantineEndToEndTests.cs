using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Contracts.Uplink;
using Edge.Ingest.Ownership;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Edge.EndToEnd.Tests.Quarantine;

/// <summary>
/// Ownership at ingest, attacked through the real broker, worker and API: a gateway (or whoever adds a device credential
/// on it) publishing a serial registered elsewhere, a retired or unknown gateway, a device moved away. None of it may
/// reach a clinic's telemetry or alerts; it waits in the quarantine, visible to admins, until the registry says whose it is.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class QuarantineEndToEndTests(PostgresServer postgres)
{
    private const string NorthSerial = "OXY-9500-0001";

    [Fact]
    public async Task A_gateway_publishing_another_clinics_serial_is_quarantined_invisible_to_both_clinics_and_released_on_registration()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var api = await InProcessApi.StartAsync(cloud.ConnectionString);
        var admin = api.As("admin");
        await CreateClinicWithGatewayAsync(admin, "north", "gw-north");
        await CreateClinicWithGatewayAsync(admin, "local", "gw-local");
        (await admin.PostAsJsonAsync("/v1/devices", new { serial = NorthSerial, clinic_id = "north", gateway_id = "gw-north" })).EnsureSuccessStatusCode();
        await cloud.StartWorkerAsync("ingest-quarantine");

        // gw-local's technician added a credential for north's concentrator and published an alarm reading.
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var ack = await cloud.PublishBatchAsync("gw-local", 41, BatchLanes.Urgent, 1, (NorthSerial, Oxygen(NorthSerial, at, purity: 80, alarm: "E07")));

        // Acknowledged so the lane is not blocked, and counted as not stored: the cloud holds it, not a store.
        Assert.Equal((CommitAck.StatusStored, 0, 0, 1), (ack.Status, ack.Stored, ack.Duplicates, ack.Rejected));
        Assert.Empty(await cloud.RowsAsync());
        var north = api.As("clinician", "north");
        Assert.Empty((await TelemetryAsync(north, NorthSerial, at)).GetProperty("items").EnumerateArray());
        Assert.Empty((await north.GetFromJsonAsync<JsonElement>($"/v1/alerts?serial={NorthSerial}")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await api.As("clinician", "local").GetAsync($"/v1/devices/{NorthSerial}/telemetry")).StatusCode);

        // Admins see it, with the reason; nobody else does.
        var held = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/v1/quarantine?gateway=gw-local")).GetProperty("items").EnumerateArray());
        Assert.Equal(("gw-local", NorthSerial, "other-gateway"), (held.GetProperty("gateway_id").GetString(), held.GetProperty("serial").GetString(), held.GetProperty("reason").GetString()));
        Assert.Equal(80, held.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
        Assert.Equal(HttpStatusCode.Forbidden, (await north.GetAsync("/v1/quarantine")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.As("technician", "local").GetAsync("/v1/quarantine")).StatusCode);

        // The device really moved to gw-local: the held reading is released into the store, alerts and all, for local.
        (await admin.PostAsJsonAsync($"/v1/devices/{NorthSerial}/transfer", new { clinic_id = "local", gateway_id = "gw-local" })).EnsureSuccessStatusCode();
        var local = api.As("clinician", "local");
        await Eventually.TrueAsync(
            async () => (await TelemetryAsync(local, NorthSerial, at)).GetProperty("items").GetArrayLength() == 1,
            TimeSpan.FromSeconds(30), "the quarantined reading to be released to the clinic the device now belongs to");
        // The worker stores a released reading, then deletes its quarantine row: the reading can be seen a moment before.
        await Eventually.TrueAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>("/v1/quarantine")).GetProperty("items").GetArrayLength() == 0,
            TimeSpan.FromSeconds(30), "the released reading to leave the quarantine");
        var alerts = (await local.GetFromJsonAsync<JsonElement>($"/v1/alerts?serial={NorthSerial}")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["oxygen.alarm", "oxygen.purity_low"], alerts.Select(a => a.GetProperty("rule").GetString()).Order());
        Assert.All(alerts, a => Assert.Equal("local", a.GetProperty("clinic_id").GetString()));
        var stored = Assert.Single(await cloud.RowsAsync());
        Assert.Equal(("gw-local", 41L, 1L), (stored.GatewayId, stored.Epoch, stored.Sequence));
    }

    [Fact]
    public async Task Batches_from_a_retired_or_an_unregistered_gateway_are_not_stored()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-old", "OXY-9500-0002");
        await ExecuteAsync(cloud, "UPDATE gateways SET status = 'retired', retired_at = now() WHERE id = 'gw-old'");
        await cloud.StartWorkerAsync("ingest-retired");

        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var retired = await cloud.PublishBatchAsync("gw-old", 7, BatchLanes.Routine, 1, ("OXY-9500-0002", Oxygen("OXY-9500-0002", at, purity: 94)));
        var unknown = await cloud.PublishBatchAsync("gw-ghost", 8, BatchLanes.Routine, 1, ("OXY-9500-0003", Oxygen("OXY-9500-0003", at, purity: 94)));

        Assert.Equal((0, 1), (retired.Stored, retired.Rejected));
        Assert.Equal((0, 1), (unknown.Stored, unknown.Rejected));
        Assert.Empty(await cloud.RowsAsync());
        Assert.Equal(
            ["gw-ghost OXY-9500-0003 unknown-gateway", "gw-old OXY-9500-0002 retired-gateway"],
            await QuarantinedAsync(cloud));
    }

    [Fact]
    public async Task A_device_transferred_away_stops_being_accepted_from_its_old_gateway_without_restarting_the_worker()
    {
        const string serial = "OXY-9500-0004";
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-a", serial);
        await cloud.RegisterAsync("gw-b");
        await cloud.StartWorkerAsync("ingest-transfer");

        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        var first = await cloud.PublishBatchAsync("gw-a", 9, BatchLanes.Routine, 1, (serial, Oxygen(serial, at, purity: 94)));
        Assert.Equal((1, 0), (first.Stored, first.Rejected)); // the worker knows (and has cached) the device as gw-a's

        await ExecuteAsync(cloud, $"UPDATE devices SET gateway_id = 'gw-b' WHERE serial = '{serial}'");

        // The worker learns of the change by notification, well within the deadline (its safety refresh is a minute).
        var sequence = 1L;
        await Eventually.TrueAsync(
            async () =>
            {
                sequence++;
                var ack = await cloud.PublishBatchAsync("gw-a", 9, BatchLanes.Routine, sequence, (serial, Oxygen(serial, at.AddSeconds(sequence), purity: 94)));
                return ack.Rejected == 1;
            },
            TimeSpan.FromSeconds(15), "gw-a's readings of the transferred device to be quarantined");
        var quarantined = await cloud.PublishBatchAsync("gw-a", 9, BatchLanes.Routine, sequence + 1, (serial, Oxygen(serial, at.AddSeconds(sequence + 1), purity: 94)));
        Assert.Equal((0, 1), (quarantined.Stored, quarantined.Rejected));
        Assert.DoesNotContain(await cloud.RowsAsync(), r => r.Sequence > sequence - 1);
        Assert.Contains($"gw-a {serial} other-gateway", await QuarantinedAsync(cloud));
    }

    [Fact]
    public async Task While_the_worker_cannot_hear_registry_changes_it_caches_nothing_and_asks_the_registry()
    {
        const string serial = "OXY-9500-0005";
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-a", serial);
        await cloud.RegisterAsync("gw-b");
        var worker = await cloud.StartWorkerAsync("ingest-failsafe");
        var ownership = worker.Services.GetRequiredService<RegistryOwnership>();
        await ownership.Listening.WaitAsync(TimeSpan.FromSeconds(30));
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        Assert.Equal(1, (await cloud.PublishBatchAsync("gw-a", 11, BatchLanes.Routine, 1, (serial, Oxygen(serial, at, purity: 94)))).Stored); // cached as gw-a's

        // The notification connection dies; the change made meanwhile is never notified.
        await ExecuteAsync(cloud, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN edge_registry_changed'");
        await Eventually.TrueAsync(() => !ownership.IsListening, TimeSpan.FromSeconds(30), "the worker to notice the lost connection");
        await ExecuteAsync(cloud, $"UPDATE devices SET gateway_id = 'gw-b' WHERE serial = '{serial}'");

        var ack = await cloud.PublishBatchAsync("gw-a", 11, BatchLanes.Routine, 2, (serial, Oxygen(serial, at.AddSeconds(1), purity: 94)));
        Assert.Equal((0, 1), (ack.Stored, ack.Rejected));
        await Eventually.TrueAsync(() => ownership.IsListening, TimeSpan.FromSeconds(30), "the worker to listen again");
        var after = await cloud.PublishBatchAsync("gw-b", 12, BatchLanes.Routine, 1, (serial, Oxygen(serial, at.AddSeconds(2), purity: 94)));
        Assert.Equal((1, 0), (after.Stored, after.Rejected));
    }

    [Fact]
    public async Task The_worker_classifies_the_lane_from_the_payload_and_counts_what_it_holds_releases_expires_and_reclassifies()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-a", "OXY-9500-0006", "OXY-9500-0007");
        // Held eight days ago and never claimed: the maintenance at start deletes it.
        await ExecuteAsync(cloud, """
            INSERT INTO quarantined_readings (id, gateway_id, serial, reason, epoch, seq, received_at, quarantined_at, payload)
            VALUES (gen_random_uuid(), 'gw-z', 'OXY-9500-0099', 'unknown-gateway', 1, 1, now() - interval '8 days', now() - interval '8 days', '{}')
            """);
        using var metrics = new MetricsEndpoint();
        await cloud.StartWorkerAsync("ingest-lanes", settings: metrics.Settings);
        await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_quarantine_expired_total") == 1,
            TimeSpan.FromSeconds(30), "the expired reading to be deleted and counted");
        var before = await metrics.ScrapeAsync();
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_quarantine_held_total", "reason=\"other-gateway\""));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_quarantine_released_total"));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_lane_mismatches_total", "claimed=\"routine\""));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_not_owned_refusals_total", "message=\"upload\""));
        Assert.Empty(await QuarantinedAsync(cloud));

        // An alarm hidden in the routine lane, and routine data claimed urgent: the worker's lane is stored.
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        await cloud.PublishBatchAsync("gw-a", 13, BatchLanes.Routine, 1, ("OXY-9500-0006", Oxygen("OXY-9500-0006", at, purity: 94, alarm: "E07")));
        await cloud.PublishBatchAsync("gw-a", 13, BatchLanes.Urgent, 2, ("OXY-9500-0007", Oxygen("OXY-9500-0007", at, purity: 94)));
        // A serial not registered anywhere, then registered to gw-a: held, then released.
        await cloud.PublishBatchAsync("gw-a", 13, BatchLanes.Routine, 3, ("OXY-9500-0008", Oxygen("OXY-9500-0008", at, purity: 94)));
        await cloud.RegisterAsync("gw-a", "OXY-9500-0008");
        await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_quarantine_released_total") == 1,
            TimeSpan.FromSeconds(30), "the held reading to be released and counted");

        Assert.Equal(
            ["OXY-9500-0006 True", "OXY-9500-0007 False", "OXY-9500-0008 False"],
            await ScalarsAsync(cloud, "SELECT serial || ' ' || CASE WHEN urgent THEN 'True' ELSE 'False' END FROM oxygen_readings ORDER BY serial"));
        var after = await metrics.ScrapeAsync();
        Assert.Equal(1, MetricsEndpoint.Value(after, "edge_worker_quarantine_held_total", "reason=\"unknown-serial\""));
        Assert.Equal(1, MetricsEndpoint.Value(after, "edge_worker_lane_mismatches_total", "claimed=\"routine\""));
        Assert.Equal(1, MetricsEndpoint.Value(after, "edge_worker_lane_mismatches_total", "claimed=\"urgent\""));
        Assert.Equal(3, MetricsEndpoint.Value(after, "edge_worker_readings_total", "kind=\"oxygen\"", "result=\"stored\""));
        Assert.Equal(1, MetricsEndpoint.Value(after, "edge_worker_reading_delay_seconds_count", "lane=\"urgent\""));
    }

    [Fact]
    public async Task Two_workers_releasing_at_once_store_each_held_reading_once_and_count_it_once()
    {
        const string serial = "OXY-9500-0009";
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-a");
        using var metricsA = new MetricsEndpoint();
        using var metricsB = new MetricsEndpoint();
        await cloud.StartWorkerAsync("ingest-release-a", settings: metricsA.Settings);
        await cloud.StartWorkerAsync("ingest-release-b", settings: metricsB.Settings);
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        var readings = Enumerable.Range(0, 50).Select(i => (serial, Oxygen(serial, at.AddSeconds(i), purity: 94))).ToArray();
        Assert.Equal(50, (await cloud.PublishBatchAsync("gw-a", 21, BatchLanes.Routine, 1, readings)).Rejected);

        // Both workers hear the registration and release at the same moment.
        await cloud.RegisterAsync("gw-a", serial);
        await Eventually.TrueAsync(async () => (await QuarantinedAsync(cloud)).Count == 0, TimeSpan.FromSeconds(30), "the quarantine to empty");

        var rows = await cloud.RowsAsync();
        Assert.Equal(50, rows.Count);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), rows.Select(r => r.Sequence).Order());
        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metricsA.ScrapeAsync(), "edge_worker_quarantine_released_total")
                + MetricsEndpoint.Value(await metricsB.ScrapeAsync(), "edge_worker_quarantine_released_total") == 50,
            TimeSpan.FromSeconds(30), "50 releases counted over both workers");
    }

    internal static string Oxygen(string serial, DateTimeOffset at, double purity, string? alarm = null)
    {
        var alarmProperty = alarm is null ? "" : $",\"alarm_code\":\"{alarm}\"";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"serial\":\"{serial}\",\"timestamp\":\"{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z\",\"metrics\":{{\"oxygen_purity_pct\":{purity},\"flow_rate_lpm\":2.0,\"temperature_c\":36.9{alarmProperty}}}}}");
    }

    private static async Task CreateClinicWithGatewayAsync(HttpClient admin, string clinic, string gateway)
    {
        (await admin.PostAsJsonAsync("/v1/clinics", new { id = clinic, name = clinic })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/gateways", new { id = gateway, clinic_id = clinic, name = gateway })).EnsureSuccessStatusCode();
    }

    private static async Task<JsonElement> TelemetryAsync(HttpClient client, string serial, DateTimeOffset at)
    {
        var from = Uri.EscapeDataString(at.AddHours(-1).ToString("O"));
        var response = await client.GetAsync($"/v1/devices/{serial}/telemetry?from={from}");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<List<string>> QuarantinedAsync(LocalCloud cloud) =>
        ScalarsAsync(cloud, "SELECT gateway_id || ' ' || serial || ' ' || reason FROM quarantined_readings ORDER BY 1");

    private static async Task<List<string>> ScalarsAsync(LocalCloud cloud, string sql)
    {
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    private static async Task ExecuteAsync(LocalCloud cloud, string sql)
    {
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
