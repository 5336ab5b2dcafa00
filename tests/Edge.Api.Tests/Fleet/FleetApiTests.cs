using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Fleet;

/// <summary>
/// Gateway health, device presence and a gateway's recent events through the API: their shapes, the online rule, paging,
/// and the same clinic and gateway scoping as the registry (the workers write the rows; here they are written directly).
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FleetApiTests(PostgresServer server) : ApiTest(server)
{
    private const string DeviceA = "OXY-1000-0001";
    private const string DeviceB = "OXY-2000-0001";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("clinic-a");
        await CreateClinicAsync("clinic-b");
        await RegisterGatewayAsync("gw-a", "clinic-a");
        await RegisterGatewayAsync("gw-b", "clinic-b");
        await RegisterDeviceAsync(DeviceA, "clinic-a", "gw-a");
        await RegisterDeviceAsync(DeviceB, "clinic-b", "gw-b");

        // gw-a was heard from a minute ago, gw-b ten minutes ago (past the default 180 s); both devices online.
        await using var command = Probe.CreateCommand($"""
            INSERT INTO gateway_health (gateway_id, heartbeat_at, received_at, agent_version, interval_seconds, started_at, backlog,
                oldest_unsynced_at, shed, not_stored, certificate_not_after, clock_synchronized, skewed_devices, max_device_skew_seconds, devices_connected)
            VALUES ('gw-a', now() - interval '1 minute', now() - interval '1 minute', '1.4.0', 60, now() - interval '1 day', 42,
                    now() - interval '5 minutes', 3, '{"{}"}', '2027-01-01T00:00:00Z', true, 0, NULL, 1),
                   ('gw-b', now() - interval '10 minutes', now() - interval '10 minutes', '1.3.9', 60, now() - interval '1 day', 0,
                    NULL, 0, '{"{}"}', NULL, NULL, 0, NULL, 1);
            INSERT INTO device_presence (serial, state, since, gateway_id, last_change_id, reason, recorded_at)
            VALUES ('{DeviceA}', 'online', '2026-12-01T08:00:00Z', 'gw-a', 7, 'connected', now()),
                   ('{DeviceB}', 'online', '2026-12-01T09:00:00Z', 'gw-b', 3, 'connected', now());
            INSERT INTO device_last_reading (serial, last_reading_at) VALUES ('{DeviceA}', '2026-12-01T08:30:00Z');
            INSERT INTO gateway_events (gateway_id, event_id, type, serial, at, status, version, job_id, reason, received_at)
            VALUES ('gw-a', 5, 'device_presence', '{DeviceA}', '2026-12-01T07:00:00Z', 'offline', NULL, NULL, 'connection_lost', now()),
                   ('gw-a', 6, 'config_applied', '{DeviceA}', '2026-12-01T07:30:00Z', NULL, 4, NULL, NULL, now()),
                   ('gw-a', 7, 'device_presence', '{DeviceA}', '2026-12-01T08:00:00Z', 'online', NULL, NULL, 'connected', now());
            """);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_clinician_of_another_clinic_sees_neither_the_gateways_health_nor_its_devices_presence_nor_its_events()
    {
        using var clinicianB = Api.As("clinician", "clinic-b");
        var gateways = await ReadAsync(await clinicianB.GetAsync("/v1/gateways"), HttpStatusCode.OK);
        var only = Assert.Single(gateways.GetProperty("items").EnumerateArray());
        Assert.Equal("gw-b", only.GetProperty("id").GetString());
        Assert.Equal("1.3.9", only.GetProperty("health").GetProperty("agent_version").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await clinicianB.GetAsync("/v1/gateways/gw-a")).StatusCode);
        var events = await clinicianB.GetAsync("/v1/gateways/gw-a/events");
        Assert.Equal(HttpStatusCode.NotFound, events.StatusCode);
        Assert.DoesNotContain(DeviceA, await events.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await clinicianB.GetAsync($"/v1/devices/{DeviceA}")).StatusCode);

        var online = await ReadAsync(await clinicianB.GetAsync("/v1/devices?presence=online"), HttpStatusCode.OK);
        Assert.Equal([DeviceB], online.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()));

        // A gateway's own identity reads its own events only.
        using var gatewayB = Api.Client(Api.Token("gateway", [], "gw-b-identity", gatewayId: "gw-b"));
        Assert.Equal(HttpStatusCode.NotFound, (await gatewayB.GetAsync("/v1/gateways/gw-a/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gatewayB.GetAsync("/v1/gateways/gw-b/events")).StatusCode);
    }

    [Fact]
    public async Task Health_says_online_by_the_last_heartbeats_age_and_presence_is_unknown_until_reported()
    {
        using var technician = Api.As("technician", "clinic-a", "clinic-b");
        var a = (await ReadAsync(await technician.GetAsync("/v1/gateways/gw-a"), HttpStatusCode.OK)).GetProperty("health");
        Assert.True(a.GetProperty("online").GetBoolean());
        Assert.Equal(42, a.GetProperty("backlog").GetInt64());
        Assert.Equal(3, a.GetProperty("shed").GetInt64());
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), a.GetProperty("certificate_not_after").GetDateTimeOffset());
        Assert.True(a.GetProperty("clock_synchronized").GetBoolean());
        Assert.Equal(JsonValueKind.String, a.GetProperty("oldest_unsynced_at").ValueKind);
        Assert.Equal(JsonValueKind.String, a.GetProperty("last_heartbeat_at").ValueKind);

        var b = (await ReadAsync(await technician.GetAsync("/v1/gateways/gw-b"), HttpStatusCode.OK)).GetProperty("health");
        Assert.False(b.GetProperty("online").GetBoolean());
        Assert.Equal(JsonValueKind.Null, b.GetProperty("clock_synchronized").ValueKind);

        await RegisterGatewayAsync("gw-new", "clinic-a");
        Assert.Equal(JsonValueKind.Null, (await ReadAsync(await technician.GetAsync("/v1/gateways/gw-new"), HttpStatusCode.OK)).GetProperty("health").ValueKind);

        var presence = (await ReadAsync(await technician.GetAsync($"/v1/devices/{DeviceA}"), HttpStatusCode.OK)).GetProperty("presence");
        Assert.Equal("online", presence.GetProperty("state").GetString());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero), presence.GetProperty("since").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), presence.GetProperty("last_reading_at").GetDateTimeOffset());

        await RegisterDeviceAsync("ECG-1000-0009", "clinic-a", "gw-a");
        var unknown = await ReadAsync(await technician.GetAsync("/v1/devices?presence=unknown"), HttpStatusCode.OK);
        var item = Assert.Single(unknown.GetProperty("items").EnumerateArray());
        Assert.Equal("ECG-1000-0009", item.GetProperty("serial").GetString());
        Assert.Equal("unknown", item.GetProperty("presence").GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("presence").GetProperty("since").ValueKind);
        await AssertBadParameterAsync(await technician.GetAsync("/v1/devices?presence=asleep"), "presence");
    }

    [Fact]
    public async Task A_gateways_events_are_listed_newest_first_in_keyset_pages()
    {
        using var clinicianA = Api.As("clinician", "clinic-a");
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await ReadAsync(await clinicianA.GetAsync($"/v1/gateways/gw-a/events?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}"), HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => $"{e.GetProperty("id").GetInt64()}:{e.GetProperty("type").GetString()}:{e.GetProperty("status").GetString()}"));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["7:device_presence:online", "6:config_applied:", "5:device_presence:offline"], seen);
        await AssertBadParameterAsync(await clinicianA.GetAsync("/v1/gateways/gw-a/events?cursor=bm90LWEtY3Vyc29y"), "cursor");
        await AssertBadParameterAsync(await clinicianA.GetAsync("/v1/gateways/gw-a/events?limit=0"), "limit");
    }
}
