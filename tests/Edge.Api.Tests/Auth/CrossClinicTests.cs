using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Edge.Api.Tests.Auth;

/// <summary>
/// Attacks across clinics: what a caller of one clinic must not read or do to another's objects, and what a clinic
/// sees of a device that changed hands (only the readings of its own ownership periods).
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class CrossClinicTests(PostgresServer server) : ApiTest(server)
{
    private const string Oxygen = "OXY-8844-5521";

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterGatewayAsync("gw-north", "north");
        await RegisterGatewayAsync("gw-south", "south");
    }

    [Fact]
    public async Task An_auditor_reads_only_the_audit_rows_of_their_clinics()
    {
        (await Admin.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = "south", gateway_id = "gw-south", owner = "patient-4711" })).EnsureSuccessStatusCode();
        (await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.org/a" })).EnsureSuccessStatusCode();

        var page = await ReadAsync(await Api.As("auditor", "north").GetAsync("/v1/audit?limit=100"), HttpStatusCode.OK);
        var rows = page.GetProperty("items").EnumerateArray().ToList();

        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.Equal("north", row.GetProperty("clinic_id").GetString()));
        Assert.DoesNotContain("south", page.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("patient-4711", page.GetRawText(), StringComparison.Ordinal);
        // A targeted read of another clinic's object finds nothing either.
        var targeted = await ReadAsync(await Api.As("auditor", "north").GetAsync($"/v1/audit?target_type=device&target_id={Oxygen}"), HttpStatusCode.OK);
        Assert.Empty(targeted.GetProperty("items").EnumerateArray());
        // The admin sees every row, the clinic-less webhook rows too.
        var all = await ReadAsync(await Admin.GetAsync("/v1/audit?limit=100"), HttpStatusCode.OK);
        Assert.Contains(all.GetProperty("items").EnumerateArray(), row => row.GetProperty("action").GetString() == "webhook.create");
    }

    [Fact]
    public async Task An_auditor_sees_no_report_json_and_no_owner()
    {
        (await Admin.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045", clinic_id = "north", owner = "patient-4711" })).EnsureSuccessStatusCode();
        // A report upload's audit row as the API writes it (the upload itself needs S3; the row's shape is what matters).
        await using (var command = Probe.CreateCommand("""
            INSERT INTO audit_log (at, actor, role, action, target_type, target_id, clinic_id, before, after)
            VALUES (now(), 'clinician-user', 'clinician', 'report.upload', 'report', 'r-1', 'north', NULL,
                    '{"report_id":"r-1","serial":"ECG-7711-0045","report":{"patient_id":"MRN-998877","findings":"AF"}}'::jsonb)
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        var page = await ReadAsync(await Api.As("auditor", "north").GetAsync("/v1/audit?limit=100"), HttpStatusCode.OK);
        var text = page.GetRawText();
        Assert.DoesNotContain("patient-4711", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MRN-998877", text, StringComparison.Ordinal);
        var upload = page.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("action").GetString() == "report.upload");
        Assert.Equal("ECG-7711-0045", upload.GetProperty("after").GetProperty("serial").GetString());
        var register = page.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("action").GetString() == "device.register");
        Assert.Equal("north", register.GetProperty("after").GetProperty("clinic_id").GetString());

        // The admin still reads the full record.
        var all = await ReadAsync(await Admin.GetAsync("/v1/audit?limit=100"), HttpStatusCode.OK);
        Assert.Contains("patient-4711", all.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("MRN-998877", all.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_technician_cannot_take_another_clinics_retired_device_and_its_history()
    {
        var registeredAt = await RegisterAsync(Oxygen, "north", "gw-north");
        await WriteReceivedAsync(registeredAt, 3, "gw-north");
        (await Admin.PostAsync($"/v1/devices/{Oxygen}/retire", null)).EnsureSuccessStatusCode();

        var southTech = Api.As("technician", "south");
        var response = await southTech.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = "south", gateway_id = "gw-south" });
        var problem = await ReadAsync(response, HttpStatusCode.Conflict);
        Assert.DoesNotContain("north", problem.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("gw-north", problem.GetRawText(), StringComparison.Ordinal);
        // Nothing changed: the device is still north's, and south reads no history.
        var device = await ReadAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.OK);
        Assert.Equal(("north", "retired"), (device.GetProperty("clinic_id").GetString(), device.GetProperty("status").GetString()));
        await ReadAsync(await Api.As("clinician", "south").GetAsync(TelemetryUrl()), HttpStatusCode.NotFound);

        // north's own technician may bring it back.
        var northTech = Api.As("technician", "north");
        await ReadAsync(await northTech.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = "north", gateway_id = "gw-north" }), HttpStatusCode.Created);
        (await Admin.PostAsync($"/v1/devices/{Oxygen}/retire", null)).EnsureSuccessStatusCode();

        // An admin may move it across clinics, audited; south then sees none of north's readings.
        await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = "south", gateway_id = "gw-south" }), HttpStatusCode.Created);
        var audit = await ReadAsync(await Admin.GetAsync($"/v1/audit?target_type=device&target_id={Oxygen}&limit=1"), HttpStatusCode.OK);
        var entry = audit.GetProperty("items")[0];
        Assert.Equal(("device.register", "admin", "south", "north"),
            (entry.GetProperty("action").GetString(), entry.GetProperty("role").GetString(), entry.GetProperty("clinic_id").GetString(),
             entry.GetProperty("before").GetProperty("clinic_id").GetString()));
        var south = await ReadAsync(await Api.As("clinician", "south").GetAsync(TelemetryUrl()), HttpStatusCode.OK);
        Assert.Empty(south.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task After_a_transfer_each_clinic_reads_only_its_own_period()
    {
        var registeredAt = await RegisterAsync(Oxygen, "north", "gw-north");
        var northReadings = await WriteReceivedAsync(registeredAt, 3, "gw-north");

        (await Api.As("technician", "north", "south").PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south", gateway_id = "gw-south" }))
            .EnsureSuccessStatusCode();
        var southReadings = Readings.OxygenBatch(2, DateTimeOffset.UtcNow, firstSequence: 1, gateway: "gw-south");
        // A reading the device stamped with a time before the transfer (its clock set back), received by south's gateway after it.
        // Its values differ from north's reading at that time: the same bytes again would be the same reading (content id).
        var backdated = Readings.Oxygen(3, northReadings[0].DeviceTime, purity: 61.5, gateway: "gw-south") with { GatewayReceivedAt = DateTimeOffset.UtcNow };
        await Stores.Oxygen.WriteAsync([.. southReadings, backdated], CancellationToken.None);

        var north = await ReadAsync(await Api.As("clinician", "north").GetAsync(TelemetryUrl()), HttpStatusCode.OK);
        Assert.Equal(northReadings.Select(r => r.Id).Order(), Ids(north).Order());
        var south = await ReadAsync(await Api.As("clinician", "south").GetAsync(TelemetryUrl()), HttpStatusCode.OK);
        Assert.Equal(southReadings.Select(r => r.Id).Append(backdated.Id).Order(), Ids(south).Order());
        var admin = await ReadAsync(await Admin.GetAsync(TelemetryUrl()), HttpStatusCode.OK);
        Assert.Equal(6, Ids(admin).Count);

        // Summaries follow the same periods.
        var window = $"from={Iso(DateTimeOffset.UtcNow.AddHours(-2))}&to={Iso(DateTimeOffset.UtcNow.AddHours(1))}";
        var northSummary = await ReadAsync(await Api.As("clinician", "north").GetAsync($"/v1/devices/{Oxygen}/summary?metric=oxygen_purity_pct&{window}"), HttpStatusCode.OK);
        Assert.Equal(3, northSummary.GetProperty("items").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));
        var southSummary = await ReadAsync(await Api.As("clinician", "south").GetAsync($"/v1/devices/{Oxygen}/summary?metric=oxygen_purity_pct&{window}"), HttpStatusCode.OK);
        Assert.Equal(3, southSummary.GetProperty("items").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));

        // The old clinic no longer sees the registry entry (the new owner, gateway and patient are south's).
        await ReadAsync(await Api.As("clinician", "north").GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task After_a_transfer_each_clinics_daily_trend_holds_only_its_own_readings_and_alarms()
    {
        var registeredAt = await RegisterAsync(Oxygen, "north", "gw-north");
        await WriteReceivedAsync(registeredAt, 3, "gw-north"); // purity 94.6, no alarm
        (await Admin.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south", gateway_id = "gw-south" })).EnsureSuccessStatusCode();
        var now = DateTimeOffset.UtcNow;
        // South's readings, one with an alarm, and one stamped in north's hour (the device's clock set back) but received after the transfer.
        await Stores.Oxygen.WriteAsync(
        [
            Readings.Oxygen(1, now, purity: 80, alarm: "E02", gateway: "gw-south"),
            Readings.Oxygen(2, now.AddSeconds(1), purity: 90, gateway: "gw-south"),
            Readings.Oxygen(3, registeredAt, purity: 61.5, gateway: "gw-south") with { GatewayReceivedAt = now },
        ], CancellationToken.None);

        // Days (the hours of the rollup added up), summed over the buckets in case the test runs across midnight.
        var window = $"from={Iso(now.AddDays(-2))}&to={Iso(now.AddDays(1))}&bucket=day";
        async Task<(long Count, double Min, double Max, long Alarms)> TrendAsync(HttpClient client)
        {
            var items = (await ReadAsync(await client.GetAsync($"/v1/devices/{Oxygen}/summary?metric=oxygen_purity_pct&{window}"), HttpStatusCode.OK))
                .GetProperty("items").EnumerateArray().ToList();
            return (items.Sum(b => b.GetProperty("count").GetInt64()), items.Min(b => b.GetProperty("min").GetDouble()),
                items.Max(b => b.GetProperty("max").GetDouble()), items.Sum(b => b.GetProperty("alarms").GetInt64()));
        }

        Assert.Equal((3L, 94.6, 94.6, 0L), await TrendAsync(Api.As("clinician", "north")));
        Assert.Equal((3L, 61.5, 90.0, 1L), await TrendAsync(Api.As("clinician", "south")));
        Assert.Equal((6L, 61.5, 94.6, 1L), await TrendAsync(Admin));
    }

    [Fact]
    public async Task Config_history_follows_the_ownership_periods()
    {
        await RegisterDeviceAsync(Oxygen, "north", "gw-north");
        var config = new { flow_rate_lpm = 2.0, night_mode = false, maintenance_due_date = "2027-03-01" };
        await ReadAsync(await Api.As("clinician", "north").PutAsJsonAsync($"/v1/devices/{Oxygen}/config", config), HttpStatusCode.Accepted);
        (await Admin.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south", gateway_id = "gw-south" })).EnsureSuccessStatusCode();

        var south = Api.As("clinician", "south");
        var versions = await ReadAsync(await south.GetAsync($"/v1/devices/{Oxygen}/config/versions"), HttpStatusCode.OK);
        Assert.Empty(versions.GetProperty("items").EnumerateArray());
        await ReadAsync(await south.GetAsync($"/v1/devices/{Oxygen}/config?version=1"), HttpStatusCode.NotFound);

        await ReadAsync(await south.PutAsJsonAsync($"/v1/devices/{Oxygen}/config", config with { flow_rate_lpm = 3.0 }), HttpStatusCode.Accepted);
        var after = await ReadAsync(await south.GetAsync($"/v1/devices/{Oxygen}/config/versions"), HttpStatusCode.OK);
        Assert.Equal([2], after.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        var north = await ReadAsync(await Api.As("clinician", "north").GetAsync($"/v1/devices/{Oxygen}/config/versions"), HttpStatusCode.OK);
        Assert.Equal([1], north.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
    }

    [Fact]
    public async Task Refusals_name_no_other_clinics_ids()
    {
        await RegisterDeviceAsync(Oxygen, "north", "gw-north");
        var southTech = Api.As("technician", "south");
        var bodies = new List<string>
        {
            // The serial is north's.
            await BodyAsync(await southTech.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = "south", gateway_id = "gw-south" }), HttpStatusCode.Conflict),
            // The gateway id is north's.
            await BodyAsync(await southTech.PostAsJsonAsync("/v1/gateways", new { id = "gw-north", clinic_id = "south", name = "Mine" }), HttpStatusCode.Conflict),
            // A device placed on north's gateway.
            await BodyAsync(await southTech.PostAsJsonAsync("/v1/devices", new { serial = "ECG-7711-0045", clinic_id = "south", gateway_id = "gw-north" }), HttpStatusCode.BadRequest),
            await BodyAsync(await southTech.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south" }), HttpStatusCode.NotFound),
            await BodyAsync(await southTech.PostAsync($"/v1/devices/{Oxygen}/retire", null), HttpStatusCode.NotFound),
        };
        Assert.All(bodies, body =>
        {
            Assert.DoesNotContain("north", body, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(Oxygen, bodies[0], StringComparison.Ordinal);
    }

    /// <summary>Registers the device as the admin and returns its registration time (where its first ownership period starts).</summary>
    private async Task<DateTimeOffset> RegisterAsync(string serial, string clinic, string gateway)
    {
        var device = await ReadAsync(await Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = clinic, gateway_id = gateway }), HttpStatusCode.Created);
        return device.GetProperty("registered_at").GetDateTimeOffset();
    }

    /// <summary>
    /// Stores <paramref name="count"/> readings received by the gateway just after <paramref name="after"/>, and waits until
    /// the clock is past the last of them, so a registry change made next comes after every one.
    /// </summary>
    private async Task<List<Edge.Storage.StoredReading>> WriteReceivedAsync(DateTimeOffset after, int count, string gateway)
    {
        // Readings.Oxygen stamps the gateway's received time 250 ms after the device time.
        var readings = Enumerable.Range(1, count).Select(i => Readings.Oxygen(i, after.AddMilliseconds(i - 250), gateway: gateway)).ToList();
        await Stores.Oxygen.WriteAsync(readings, CancellationToken.None);
        var last = readings[^1].GatewayReceivedAt;
        await Edge.Testing.Eventually.TrueAsync(() => DateTimeOffset.UtcNow > last.AddMilliseconds(1), TimeSpan.FromSeconds(5), "the clock to pass the last reading");
        return readings;
    }

    private static async Task<string> BodyAsync(HttpResponseMessage response, HttpStatusCode expected) =>
        (await ReadAsync(response, expected)).GetRawText();

    private static string TelemetryUrl() =>
        $"/v1/devices/{Oxygen}/telemetry?from={Iso(DateTimeOffset.UtcNow.AddHours(-2))}&to={Iso(DateTimeOffset.UtcNow.AddHours(1))}&limit=1000";

    private static List<Guid> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
