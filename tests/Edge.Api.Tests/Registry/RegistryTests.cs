using System.Net;
using System.Net.Http.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Registry;

[Collection(PostgresServer.Collection)]
public sealed class RegistryTests(PostgresServer server) : ApiTest(server)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterGatewayAsync("gw-north", "north");
        await RegisterGatewayAsync("gw-south", "south");
    }

    [Fact]
    public async Task A_registered_device_takes_its_kind_from_the_serial_and_is_listed()
    {
        var created = await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices",
            new { serial = "OXY-8844-5521", clinic_id = "north", gateway_id = "gw-north", owner = "ward 3", firmware = "2.1.0" }), HttpStatusCode.Created);
        Assert.Equal("oxygen", created.GetProperty("kind").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());

        var fetched = await ReadAsync(await Admin.GetAsync("/v1/devices/OXY-8844-5521"), HttpStatusCode.OK);
        Assert.Equal("gw-north", fetched.GetProperty("gateway_id").GetString());
        Assert.Equal("ward 3", fetched.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Registering_the_same_device_twice_is_a_no_op_and_a_contradiction_is_a_conflict()
    {
        await RegisterDeviceAsync("CPAP-2301-9912", "north", "gw-north");
        var again = await Admin.PostAsJsonAsync("/v1/devices", new { serial = "CPAP-2301-9912", clinic_id = "north", gateway_id = "gw-north" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var moved = await Admin.PostAsJsonAsync("/v1/devices", new { serial = "CPAP-2301-9912", clinic_id = "south", gateway_id = "gw-south" });
        var problem = await ReadAsync(moved, HttpStatusCode.Conflict);
        Assert.Contains("clinic north", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM audit_log WHERE action = 'device.register' AND target_id = 'CPAP-2301-9912'"));
    }

    [Fact]
    public async Task Bad_registrations_name_the_field_and_store_nothing()
    {
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "FOO-1", clinic_id = "north" }), "serial");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045" }), "clinic_id");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045", clinic_id = "nowhere" }), "clinic_id");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045", clinic_id = "north", gateway_id = "gw-south" }), "gateway_id");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045", clinic_id = "north", kind = "oxygen" }), "kind");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways", new { id = "gw/1", clinic_id = "north", name = "x" }), "id");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways", new { id = "gw-2", clinic_id = "north", name = "x", certificate_fingerprint = "abc" }), "certificate_fingerprint");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/clinics", new { id = "Has Spaces", name = "x" }), "id");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/devices?limit=0"), "limit");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/devices?cursor=%%%"), "cursor");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/devices?cursor=A"), "cursor");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/devices?cursor=_w"), "cursor");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/devices?kind=toaster"), "kind");

        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM devices"));
    }

    [Fact]
    public async Task A_malformed_body_is_a_problem_that_says_what_the_reader_found()
    {
        using var content = new StringContent("{\"serial\": \"OXY-1000-0001\", \"clinic_id\": ", System.Text.Encoding.UTF8, "application/json");
        var problem = await ReadAsync(await Admin.PostAsync("/v1/devices", content), HttpStatusCode.BadRequest);
        Assert.Contains("not valid", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bipap_may_be_registered_under_a_cpap_serial()
    {
        var created = await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "CPAP-2301-0001", clinic_id = "north", kind = "bipap" }), HttpStatusCode.Created);
        Assert.Equal("bipap", created.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Lists_page_by_key_and_filter()
    {
        for (var i = 0; i < 7; i++)
        {
            await RegisterDeviceAsync($"OXY-1000-{i:D4}", "north", "gw-north");
            await RegisterDeviceAsync($"ECG-1000-{i:D4}", "south");
        }

        var serials = new List<string>();
        string? cursor = null;
        do
        {
            var page = await ReadAsync(await Admin.GetAsync($"/v1/devices?kind=oxygen&limit=3{(cursor is null ? "" : "&cursor=" + cursor)}"), HttpStatusCode.OK);
            serials.AddRange(page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"OXY-1000-{i:D4}"), serials);

        var south = await ReadAsync(await Admin.GetAsync("/v1/devices?clinic=south&limit=500"), HttpStatusCode.OK);
        Assert.Equal(7, south.GetProperty("items").GetArrayLength());
        var byGateway = await ReadAsync(await Admin.GetAsync("/v1/devices?gateway=gw-north"), HttpStatusCode.OK);
        Assert.Equal(7, byGateway.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_clinician_sees_only_their_clinics_devices()
    {
        await RegisterDeviceAsync("OXY-2000-0001", "north");
        await RegisterDeviceAsync("OXY-2000-0002", "south");
        var clinician = Api.As("clinician", "north");

        var list = await ReadAsync(await clinician.GetAsync("/v1/devices"), HttpStatusCode.OK);
        Assert.Equal(["OXY-2000-0001"], list.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await clinician.GetAsync("/v1/devices/OXY-2000-0001")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clinician.GetAsync("/v1/devices/OXY-2000-0002")).StatusCode);

        var clinics = await ReadAsync(await clinician.GetAsync("/v1/clinics"), HttpStatusCode.OK);
        Assert.Equal(["north"], clinics.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_technician_registers_only_in_their_clinics()
    {
        var technician = Api.As("technician", "north");
        Assert.Equal(HttpStatusCode.Created, (await technician.PostAsJsonAsync("/v1/devices", new { serial = "ECG-3000-0001", clinic_id = "north" })).StatusCode);
        await ReadAsync(await technician.PostAsJsonAsync("/v1/devices", new { serial = "ECG-3000-0002", clinic_id = "south" }), HttpStatusCode.Forbidden);
        await ReadAsync(await technician.PostAsJsonAsync("/v1/gateways", new { id = "gw-x", clinic_id = "south", name = "x" }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_gateway_identity_sees_only_its_own_gateway_and_devices()
    {
        await RegisterDeviceAsync("OXY-4000-0001", "north", "gw-north");
        await RegisterDeviceAsync("OXY-4000-0002", "south", "gw-south");
        var gateway = Api.Client(Api.Token("gateway", [], "gw-north-identity", gatewayId: "gw-north"));

        var devices = await ReadAsync(await gateway.GetAsync("/v1/devices"), HttpStatusCode.OK);
        Assert.Equal(["OXY-4000-0001"], devices.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()));
        var gateways = await ReadAsync(await gateway.GetAsync("/v1/gateways"), HttpStatusCode.OK);
        Assert.Equal(["gw-north"], gateways.GetProperty("items").EnumerateArray().Select(g => g.GetProperty("id").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/v1/gateways/gw-south")).StatusCode);
    }

    [Fact]
    public async Task Transfer_moves_a_device_and_audits_before_and_after()
    {
        await RegisterDeviceAsync("OXY-5000-0001", "north", "gw-north");
        var moved = await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices/OXY-5000-0001/transfer",
            new { clinic_id = "south", gateway_id = "gw-south", owner = "patient 17" }), HttpStatusCode.OK);
        Assert.Equal("south", moved.GetProperty("clinic_id").GetString());

        var audit = await ReadAsync(await Admin.GetAsync("/v1/audit?target_type=device&target_id=OXY-5000-0001"), HttpStatusCode.OK);
        var entry = audit.GetProperty("items").EnumerateArray().First();
        Assert.Equal("device.transfer", entry.GetProperty("action").GetString());
        Assert.Equal("admin-user", entry.GetProperty("actor").GetString());
        Assert.Equal("admin", entry.GetProperty("role").GetString());
        Assert.Equal("north", entry.GetProperty("before").GetProperty("clinic_id").GetString());
        Assert.Equal("south", entry.GetProperty("after").GetProperty("clinic_id").GetString());

        // A technician of the old clinic only can no longer see it.
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("technician", "north").PostAsJsonAsync("/v1/devices/OXY-5000-0001/retire", new { })).StatusCode);
    }

    [Fact]
    public async Task A_retired_device_keeps_its_entry_and_may_be_registered_again()
    {
        await RegisterDeviceAsync("ECG-6000-0001", "north");
        var retired = await ReadAsync(await Admin.PostAsync("/v1/devices/ECG-6000-0001/retire", null), HttpStatusCode.OK);
        Assert.Equal("retired", retired.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("/v1/devices/ECG-6000-0001/transfer", new { clinic_id = "south" })).StatusCode);

        var back = await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-6000-0001", clinic_id = "south" }), HttpStatusCode.Created);
        Assert.Equal("active", back.GetProperty("status").GetString());
        Assert.Equal(2L, await CountAsync("SELECT count(*) FROM audit_log WHERE action = 'device.register' AND target_id = 'ECG-6000-0001'"));
    }

    [Fact]
    public async Task Gateway_registration_is_idempotent_and_keeps_the_fingerprint_in_hex()
    {
        var fingerprint = string.Join(':', Enumerable.Range(0, 32).Select(i => (i * 7 % 256).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        var first = await ReadAsync(await Admin.PostAsJsonAsync("/v1/gateways",
            new { id = "gw-east", clinic_id = "north", name = "East wing", certificate_fingerprint = fingerprint }), HttpStatusCode.Created);
        Assert.Equal(fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant(), first.GetProperty("certificate_fingerprint").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync("/v1/gateways",
            new { id = "gw-east", clinic_id = "north", name = "East wing", certificate_fingerprint = fingerprint })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsJsonAsync("/v1/gateways",
            new { id = "gw-east", clinic_id = "north", name = "East wing" })).StatusCode);

        var retired = await ReadAsync(await Admin.PostAsync("/v1/gateways/gw-east/retire", null), HttpStatusCode.OK);
        Assert.Equal("retired", retired.GetProperty("status").GetString());
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = "OXY-7000-0001", clinic_id = "north", gateway_id = "gw-east" }), "gateway_id");
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
