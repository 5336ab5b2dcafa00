// Firely's POCOs declare every element nullable; see FhirReadTests.
#nullable disable warnings
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Reports;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Postgres;
using Edge.Testing.S3;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// FHIR bulk export of a clinic against the real API, PostgreSQL and s3rver: kick-off, status polling, the manifest, and
/// NDJSON files whose every line the SDK parses back, as many as the stores hold for the clinic and nothing of another.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirExportTests(PostgresServer server) : ApiTest(server)
{
    private const string Cpap = "CPAP-2301-9912";
    private const string Oxygen = "OXY-8844-5521";
    private const string Ecg = "ECG-7711-0045";
    private const string SouthEcg = "ECG-7711-0046";

    private S3rverServer _s3 = null!;
    private DateTimeOffset _start;

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    protected override string[] ApiSettings() => _s3.ReportSettings;

    public override async Task InitializeAsync()
    {
        _s3 = await S3rverServer.StartNewAsync();
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        foreach (var (serial, clinic, owner) in new[] { (Cpap, "north", "MRN-1001"), (Oxygen, "north", "MRN-1001"), (Ecg, "north", (string)null), (SouthEcg, "south", "MRN-2001") })
        {
            var response = await Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = clinic, owner });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        var now = TimeProvider.System.GetUtcNow();
        _start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(2);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _s3.DisposeAsync();
    }

    [Fact]
    public async Task A_clinic_export_round_trips_through_NDJSON_in_S3()
    {
        var seeded = await SeedAsync();
        var client = Integration("north", "warehouse");

        var manifest = await ExportAsync(client, "/fhir/r4/Group/north/$export");

        Assert.Equal(["Device", "Observation", "DiagnosticReport"], manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
        Assert.False(manifest.GetProperty("requiresAccessToken").GetBoolean());
        var parsed = new Dictionary<string, List<Resource>>();
        using var anonymous = new HttpClient();
        foreach (var output in manifest.GetProperty("output").EnumerateArray())
        {
            // Presigned: no token.
            var ndjson = await anonymous.GetStringAsync(output.GetProperty("url").GetString());
            var lines = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var resources = lines.Select(line => FhirValidation.Parser.DeserializeResource(line)).ToList();
            Assert.All(resources, r => Assert.Equal(output.GetProperty("type").GetString(), r.TypeName));
            Assert.Equal(output.GetProperty("count").GetInt64(), resources.Count);
            FhirValidation.AssertValid(resources[0]);
            parsed[output.GetProperty("type").GetString()!] = resources;
        }

        // As many as the stores hold for the clinic, each once, and nothing of the other clinic.
        Assert.Equal(await StoredCountAsync(Cpap, Oxygen, Ecg), parsed["Observation"].Count);
        var exported = parsed["Observation"].Cast<Observation>().Select(o => o.Identifier.Single().Value).Order().ToList();
        Assert.Equal(seeded.Select(id => "urn:uuid:" + id).Order().ToList(), exported);
        Assert.Equal([Cpap, Ecg, Oxygen], parsed["Device"].Select(d => d.Id).Order());
        Assert.Equal(["rpt.north.1", "rpt.north.2"], parsed["DiagnosticReport"].Select(d => d.Id).Order());
        Assert.Equal("MRN-1001", parsed["Observation"].Cast<Observation>().First(o => o.Device.Reference == "Device/" + Oxygen).Subject.Identifier.Value);

        // The kick-off is in the audit log.
        await using var command = Probe.CreateCommand("SELECT count(*) FROM audit_log WHERE actor = 'warehouse' AND action = 'fhir.export' AND target_id = 'north'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Only_the_clinic_and_the_caller_that_started_an_export_reach_it()
    {
        await SeedAsync();
        await ReadOutcomeAsync(await Send(Integration("south", "south-engine"), "/fhir/r4/Group/north/$export"), HttpStatusCode.NotFound);
        var refused = await ReadOutcomeAsync(await Send(Integration("north", "engine", "system/Observation.read"), "/fhir/r4/Group/north/$export"), HttpStatusCode.Forbidden);
        Assert.Contains("Device", refused.Issue.Single().Diagnostics, StringComparison.Ordinal);
        var bad = await ReadOutcomeAsync(await Send(Integration("north", "engine"), "/fhir/r4/Group/north/$export?_type=Patient"), HttpStatusCode.BadRequest);
        Assert.Equal(["_type"], bad.Issue.Single().Expression);

        // One type only, with the scope for it.
        var kickOff = await Send(Integration("north", "engine", "system/Observation.read"), "/fhir/r4/Group/north/$export?_type=Observation");
        Assert.Equal(HttpStatusCode.Accepted, kickOff.StatusCode);
        var status = kickOff.Content.Headers.ContentLocation!.ToString();
        await ReadOutcomeAsync(await Integration("north", "someone-else").GetAsync(status), HttpStatusCode.NotFound);
        await ReadOutcomeAsync(await Integration("south", "engine").GetAsync(status), HttpStatusCode.NotFound);
        var manifest = await PollAsync(Integration("north", "engine", "system/Observation.read"), status);
        Assert.Equal(["Observation"], manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
    }

    private async Task<List<Guid>> SeedAsync()
    {
        var cpap = Enumerable.Range(0, 30).Select(i => Readings.Cpap(i + 1, _start.AddSeconds(i), serial: Cpap)).ToList();
        var oxygen = Enumerable.Range(0, 25).Select(i => Readings.Oxygen(100 + i, _start.AddSeconds(i), serial: Oxygen, alarm: i == 3 ? "E07" : null)).ToList();
        var ecg = Enumerable.Range(0, 20).Select(i => Readings.Ecg(200 + i, _start.AddSeconds(i), serial: Ecg, arrhythmia: i == 5 ? "PVC" : "none")).ToList();
        var south = Enumerable.Range(0, 5).Select(i => Readings.Ecg(300 + i, _start.AddSeconds(i), serial: SouthEcg)).ToList();
        await Stores.Cpap.WriteAsync(cpap, CancellationToken.None);
        await Stores.Oxygen.WriteAsync(oxygen, CancellationToken.None);
        await Stores.Ecg.WriteAsync(ecg, CancellationToken.None);
        await Stores.Ecg.WriteAsync(south, CancellationToken.None);

        var reports = Api.Services.GetRequiredService<ReportStore>();
        foreach (var (serial, id, clinic) in new[] { (Ecg, "rpt_north_1", "north"), (Ecg, "rpt_north_2", "north"), (SouthEcg, "rpt_south_1", "south") })
        {
            var json = $$$$"""{"serial":"{{{{serial}}}}","report":{"report_id":"{{{{id}}}}","summary":{"avg_hr":70,"max_hr":90,"min_hr":60,"alerts":[]}}}""";
            await reports.RecordAsync(new ReportRecord(id, serial, ReportRecord.SourceGateway, Readings.Gateway, null, _s3.Bucket, $"{clinic}/{serial}/{Guid.NewGuid()}.pdf",
                1024, new string('a', 32), new string('b', 64), json, _start.AddMinutes(1), _start.AddMinutes(1)), CancellationToken.None);
        }
        return [.. cpap.Concat(oxygen).Concat(ecg).Select(r => r.Id)];
    }

    private async Task<long> StoredCountAsync(string cpap, string oxygen, string ecg)
    {
        await using var command = Probe.CreateCommand("""
            SELECT (SELECT count(*) FROM cpap_device_data WHERE serial = $1) + (SELECT count(*) FROM oxygen_readings WHERE serial = $2)
                 + (SELECT count(*) FROM ecg_readings WHERE serial = $3)
            """);
        command.Parameters.AddWithValue(cpap);
        command.Parameters.AddWithValue(oxygen);
        command.Parameters.AddWithValue(ecg);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private HttpClient Integration(string clinic, string subject, string scope = "system/*.read") =>
        Api.Client(Api.Token("clinician", [clinic], subject, scopes: [scope]));

    private static Task<HttpResponseMessage> Send(HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        request.Headers.Add("Prefer", "respond-async");
        return client.SendAsync(request);
    }

    private static async Task<JsonElement> ExportAsync(HttpClient client, string url)
    {
        var kickOff = await Send(client, url);
        Assert.True(kickOff.StatusCode == HttpStatusCode.Accepted, await kickOff.Content.ReadAsStringAsync());
        return await PollAsync(client, kickOff.Content.Headers.ContentLocation!.ToString());
    }

    private static async Task<JsonElement> PollAsync(HttpClient client, string status)
    {
        HttpResponseMessage? done = null;
        await Eventually.TrueAsync(async () =>
        {
            var response = await client.GetAsync(status);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                Assert.True(response.Headers.Contains("X-Progress"));
                return false;
            }
            done = response;
            return true;
        }, TimeSpan.FromSeconds(60), "the export to finish");
        var body = await done!.Content.ReadAsStringAsync();
        Assert.True(done.StatusCode == HttpStatusCode.OK, $"{(int)done.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static async Task<OperationOutcome> ReadOutcomeAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return FhirValidation.Parse<OperationOutcome>(body);
    }
}
