using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;

namespace Edge.EndToEnd.Tests.Downlink;

/// <summary>
/// Config push through the real system: API → registry outbox → worker → mosquitto → agent (journal database, retained
/// publish) → device → ack → agent outbox → mosquitto → worker → registry → API. States are read back through the API.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class ConfigPushEndToEndTests(PostgresServer postgres)
{
    private const string Cpap = "CPAP-9500-0001";
    private const string Oxygen = "OXY-9500-0002";
    private static readonly string Gateway = InProcessAgent.DefaultGatewayId;

    // Generous: each answer crosses the agent, two MQTT hops, a worker and the database.
    internal static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static object CpapConfig(double pressure) =>
        new { target_pressure = pressure, humidity_level = 3, alerts = new { leak_threshold = 30, rr_low = 10, rr_high = 26 } };

    [Fact]
    public async Task A_pushed_config_reaches_the_device_and_its_ack_is_visible_as_applied()
    {
        await using var setup = await Setup.StartAsync(postgres, Cpap);
        await using var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(Gateway));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Cpap, await agent.Admin.AddDeviceAsync(Cpap));
        var configs = await device.SubscribeAsync($"devices/{Cpap}/config");

        var queued = await setup.PushAsync(Cpap, CpapConfig(12));
        Assert.Equal(1, queued.GetProperty("version").GetInt32());
        Assert.Equal("queued", queued.GetProperty("state").GetString());

        using var received = JsonDocument.Parse(await NextAsync(configs));
        Assert.Equal(1, received.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(12, received.RootElement.GetProperty("config").GetProperty("target_pressure").GetDouble());
        await Eventually.TrueAsync(async () => (await setup.StateAsync(Cpap)).GetProperty("state").GetString() == "delivered", Wait, "the gateway reports delivery");

        Assert.True((await device.PublishAsync($"devices/{Cpap}/config/ack", """{"version":1,"status":"applied"}""")).IsSuccess);
        await Eventually.TrueAsync(async () => (await setup.StateAsync(Cpap)).GetProperty("state").GetString() == "applied", Wait, "the device's ack reaches the API");
        var applied = await setup.StateAsync(Cpap);
        foreach (var step in new[] { "queued_at", "delivered_at", "applied_at" })
        {
            Assert.Equal(JsonValueKind.String, applied.GetProperty(step).ValueKind);
        }

        // The push is audited with the caller and the new version.
        var audit = await setup.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?target_type=device_config&target_id={Cpap}");
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray()); // the filter leaves out the registrations
        Assert.Equal("config.push", entry.GetProperty("action").GetString());
        Assert.Equal(Cpap, entry.GetProperty("target_id").GetString());
    }

    [Fact]
    public async Task A_device_that_rejects_a_config_is_reported_with_its_reason_and_bad_input_is_refused()
    {
        await using var setup = await Setup.StartAsync(postgres, Oxygen);
        await using var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(Gateway));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Oxygen, await agent.Admin.AddDeviceAsync(Oxygen));
        var configs = await device.SubscribeAsync($"devices/{Oxygen}/config");

        // The API validates against the oxygen config schema and names the field.
        var bad = await setup.Clinician.PutAsJsonAsync($"/v1/devices/{Oxygen}/config", new { flow_rate_lpm = 40, night_mode = true, maintenance_due_date = "2027-01-15" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("flow_rate_lpm", await bad.Content.ReadAsStringAsync());

        await setup.PushAsync(Oxygen, new { flow_rate_lpm = 3.0, night_mode = true, maintenance_due_date = "2027-01-15" });
        Assert.Contains("\"version\":1", await NextAsync(configs));

        // A malformed ack is refused with a reason and changes nothing; the real answer is recorded.
        var malformed = await device.PublishAsync($"devices/{Oxygen}/config/ack", """{"version":1,"status":"maybe"}""");
        Assert.False(malformed.IsSuccess);
        Assert.Contains("status", malformed.ReasonString);
        Assert.True((await device.PublishAsync($"devices/{Oxygen}/config/ack", """{"version":1,"status":"rejected","reason":"night mode unsupported by firmware 1.2"}""")).IsSuccess);

        await Eventually.TrueAsync(async () => (await setup.StateAsync(Oxygen)).GetProperty("state").GetString() == "rejected", Wait, "the rejection reaches the API");
        Assert.Equal("night mode unsupported by firmware 1.2", (await setup.StateAsync(Oxygen)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_offline_gateway_and_device_get_only_the_newest_config_and_older_versions_are_superseded()
    {
        await using var setup = await Setup.StartAsync(postgres, Cpap);

        // Gateway offline: two pushes; the first is superseded before it ever left the cloud.
        await setup.PushAsync(Cpap, CpapConfig(10));
        await setup.PushAsync(Cpap, CpapConfig(14));
        Assert.Equal("superseded", (await setup.StateAsync(Cpap, version: 1)).GetProperty("state").GetString());

        var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(Gateway));
        try
        {
            var secret = await agent.Admin.AddDeviceAsync(Cpap);
            await Eventually.TrueAsync(async () => (await setup.StateAsync(Cpap)).GetProperty("state").GetString() == "delivered", Wait, "the gateway stores version 2");

            // The device was offline too; it connects after the gateway got the config and finds it retained.
            // A restart in between proves the desired config survives in the journal database.
            agent = await agent.RestartAsync(setup.Cloud.UplinkSettings(Gateway));
            await using var device = await TestDevice.ConnectAsync(agent.Port, Cpap, secret);
            var configs = await device.SubscribeAsync($"devices/{Cpap}/config");
            using var received = JsonDocument.Parse(await NextAsync(configs));
            Assert.Equal(2, received.RootElement.GetProperty("version").GetInt32());
            Assert.Equal(14, received.RootElement.GetProperty("config").GetProperty("target_pressure").GetDouble());

            // An ack for the superseded version changes nothing; the newest is applied.
            Assert.True((await device.PublishAsync($"devices/{Cpap}/config/ack", """{"version":1,"status":"applied"}""")).IsSuccess);
            Assert.True((await device.PublishAsync($"devices/{Cpap}/config/ack", """{"version":2,"status":"applied"}""")).IsSuccess);
            await Eventually.TrueAsync(async () => (await setup.StateAsync(Cpap)).GetProperty("state").GetString() == "applied", Wait, "version 2 applied");
            Assert.Equal("superseded", (await setup.StateAsync(Cpap, version: 1)).GetProperty("state").GetString());
            Assert.False(configs.TryRead(out var extra), $"the device saw another config: {extra}");

            // The urgent lane now uses version 2's thresholds: rr 28 is above rr_high 26.
            var reading = $$$"""{"serial":"{{{Cpap}}}","timestamp":"{{{DateTimeOffset.UtcNow.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}}}Z","firmware":"v4.2.1","metrics":{"patient_mode":"AutoCPAP","leak_rate_lpm":5,"pressure_cm_h2o":12,"respiratory_rate":28}}""";
            Assert.True((await device.PublishAsync($"devices/{Cpap}/telemetry", reading)).IsSuccess);
            await Eventually.TrueAsync(
                async () => (await setup.Clinician.GetFromJsonAsync<JsonElement>($"/v1/devices/{Cpap}/telemetry")).GetProperty("items") is { } items
                    && items.GetArrayLength() == 1 && items[0].GetProperty("urgent").GetBoolean(),
                Wait, "the reading is stored from the urgent lane");
            var versions = await setup.Admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{Cpap}/config/versions?limit=1");
            Assert.Equal(2, versions.GetProperty("items")[0].GetProperty("version").GetInt32());
            Assert.Equal("2", versions.GetProperty("next_cursor").GetString());
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_on_site_push_is_applied_and_recorded_upstream_as_the_next_version()
    {
        await using var setup = await Setup.StartAsync(postgres, Cpap);
        await using var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(Gateway));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Cpap, await agent.Admin.AddDeviceAsync(Cpap));
        var configs = await device.SubscribeAsync($"devices/{Cpap}/config");

        var body = JsonSerializer.Serialize(new { serial = Cpap, config = CpapConfig(9) });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/devices/{Cpap}/config") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Edge-Actor", "tech-anna"); // a claim the agent ignores: the socket's peer is who pushed
        var pushed = await agent.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);

        Assert.Contains("\"version\":1", await NextAsync(configs));
        Assert.True((await device.PublishAsync($"devices/{Cpap}/config/ack", """{"version":1,"status":"applied"}""")).IsSuccess);
        await Eventually.TrueAsync(async () => await setup.TryStateAsync(Cpap) is { } s && s.GetProperty("state").GetString() == "applied", Wait, "the on-site version is recorded and applied");
        var state = await setup.StateAsync(Cpap);
        Assert.Equal("on-site", state.GetProperty("source").GetString());
        Assert.Contains($"{Environment.UserName} (on site, gateway {Gateway})", state.GetProperty("created_by").GetString());
        Assert.DoesNotContain("tech-anna", state.GetProperty("created_by").GetString());

        // An invalid on-site config is refused by the agent with the field named.
        var invalid = await agent.Admin.PostAsync($"/v1/devices/{Cpap}/config",
            new StringContent(JsonSerializer.Serialize(new { serial = Cpap, config = CpapConfig(90) }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("target_pressure", await invalid.Content.ReadAsStringAsync());
    }

    internal static async Task<string> NextAsync(ChannelReader<string> reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await reader.ReadAsync(timeout.Token);
    }

    /// <summary>PostgreSQL, mosquitto, one worker and the API, with a clinic, the test gateway and the devices registered.</summary>
    internal sealed class Setup : IAsyncDisposable
    {
        private Setup(LocalCloud cloud, InProcessApi api)
        {
            Cloud = cloud;
            Api = api;
            Admin = api.As("admin");
            Clinician = api.As("clinician", "ward");
        }

        public LocalCloud Cloud { get; }

        public InProcessApi Api { get; }

        public HttpClient Admin { get; }

        public HttpClient Clinician { get; }

        public static async Task<Setup> StartAsync(PostgresServer postgres, params string[] serials)
        {
            var cloud = await LocalCloud.StartAsync(postgres);
            var api = await InProcessApi.StartAsync(cloud.ConnectionString);
            var setup = new Setup(cloud, api);
            (await setup.Admin.PostAsJsonAsync("/v1/clinics", new { id = "ward", name = "Ward" })).EnsureSuccessStatusCode();
            (await setup.Admin.PostAsJsonAsync("/v1/gateways", new { id = Gateway, clinic_id = "ward", name = "Ward gateway" })).EnsureSuccessStatusCode();
            foreach (var serial in serials)
            {
                (await setup.Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = "ward", gateway_id = Gateway })).EnsureSuccessStatusCode();
            }

            await cloud.StartWorkerAsync("ingest-downlink");
            return setup;
        }

        public async Task<JsonElement> PushAsync(string serial, object config)
        {
            var response = await Clinician.PutAsJsonAsync($"/v1/devices/{serial}/config", config);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        public async Task<JsonElement> StateAsync(string serial, int? version = null) =>
            await TryStateAsync(serial, version) ?? throw new InvalidOperationException($"{serial} has no config");

        public async Task<JsonElement?> TryStateAsync(string serial, int? version = null)
        {
            var response = await Clinician.GetAsync($"/v1/devices/{serial}/config{(version is null ? "" : $"?version={version}")}");
            return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            Clinician.Dispose();
            await Api.DisposeAsync();
            await Cloud.DisposeAsync();
        }
    }
}
