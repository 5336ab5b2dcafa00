// Firely's POCOs declare every element nullable; these tests dereference what the mapping promises is there, and a
// missing element fails the test with a NullReferenceException as clearly as an assertion would.
#nullable disable warnings
using System.Net;
using System.Net.Http.Json;
using Edge.Api.Fhir;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Reports;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// The FHIR R4 read API against the real API host and PostgreSQL: every resource it produces validates against the base
/// specification, paging returns every reading once, another clinic sees nothing, scopes and roles are enforced with
/// OperationOutcomes, and every read is audited.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirReadTests(PostgresServer server) : ApiTest(server)
{
    private const string Cpap = "CPAP-2301-9912";
    private const string Bipap = "BIPAP-2301-9913";
    private const string Oxygen = "OXY-8844-5521";
    private const string Ecg = "ECG-7711-0045";
    private const string SouthEcg = "ECG-7711-0046";
    private const string Patient = "MRN-1001";
    private const string EcgPatient = "MRN-1002";
    private const string Loinc = "http://loinc.org";

    // After registration: a clinic reads the readings its gateways received from then on (its ownership period).
    private DateTimeOffset _start;

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterOwnedAsync(Cpap, "north", Patient);
        await RegisterOwnedAsync(Bipap, "north", null);
        await RegisterOwnedAsync(Oxygen, "north", Patient);
        await RegisterOwnedAsync(Ecg, "north", EcgPatient);
        await RegisterOwnedAsync(SouthEcg, "south", "MRN-2001");
        var now = TimeProvider.System.GetUtcNow();
        _start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(2);
    }

    [Fact]
    public async Task Every_resource_for_every_kind_validates_against_the_base_specification()
    {
        await SeedEveryKindAsync();
        var client = Integration("north");
        var resources = new List<Resource>();

        var metadata = await GetAsync<CapabilityStatement>(client, "/fhir/r4/metadata");
        resources.Add(metadata);
        foreach (var serial in new[] { Cpap, Bipap, Oxygen, Ecg })
        {
            var device = await GetAsync<Hl7.Fhir.Model.Device>(client, $"/fhir/r4/Device/{serial}");
            resources.Add(device);
            var bundle = await GetAsync<Bundle>(client, $"/fhir/r4/Observation?device=Device/{serial}");
            resources.Add(bundle);
            Assert.NotEmpty(bundle.Entry);
            foreach (var entry in bundle.Entry)
            {
                // Read by id answers the same resource the search did.
                var read = await GetAsync<Observation>(client, $"/fhir/r4/Observation/{entry.Resource.Id}");
                Assert.True(read.IsExactly(entry.Resource), $"Observation/{read.Id} read differs from its search entry");
                resources.Add(read);
            }
        }
        var reports = await GetAsync<Bundle>(client, $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}");
        resources.Add(reports);
        resources.Add(await GetAsync<DiagnosticReport>(client, $"/fhir/r4/DiagnosticReport/{reports.Entry.Single().Resource.Id}"));
        resources.Add(await GetAsync<Bundle>(client, "/fhir/r4/Device"));
        resources.Add(await GetAsync<Bundle>(client, $"/fhir/r4/Observation?patient:identifier={Patient}&_count=2"));
        resources.Add(await GetOutcomeAsync(client, "/fhir/r4/Observation?device=Device/OXY-8844-5521&_count=0", HttpStatusCode.BadRequest));
        resources.Add(await GetOutcomeAsync(client, "/fhir/r4/Device/OXY-0000-0000", HttpStatusCode.NotFound));

        foreach (var resource in resources)
        {
            FhirValidation.AssertValid(resource);
        }

        // What the mapping promises, checked on the parsed resources.
        var ecg = await SearchAsync<Observation>(client, $"/fhir/r4/Observation?device=Device/{Ecg}");
        var heartRate = ecg[0].Component.Single(c => c.Code.Coding.Any(x => x.System == Loinc && x.Code == "8867-4"));
        Assert.Equal((78m, "/min", "http://unitsofmeasure.org"), (((Quantity)heartRate.Value).Value!.Value, ((Quantity)heartRate.Value).Code, ((Quantity)heartRate.Value).System));
        Assert.Equal("11524-6", ecg[0].Code.Coding.First().Code);
        Assert.Equal(EcgPatient, ecg[0].Subject.Identifier.Value);
        Assert.Contains("AFib", ecg[1].Interpretation.Single().Text, StringComparison.Ordinal);
        Assert.Empty(ecg[0].Interpretation);

        var oxygen = await SearchAsync<Observation>(client, $"/fhir/r4/Observation?device=Device/{Oxygen}");
        Assert.Equal("A", oxygen[1].Interpretation.Single().Coding.Single().Code);
        Assert.Contains("LOW_PURITY", oxygen[1].Interpretation.Single().Text, StringComparison.Ordinal);
        Assert.Contains(oxygen[0].Component, c => c.Code.Coding.Any(x => x.System == Loinc && x.Code == "3151-8"));
        Assert.Equal("Device/" + Oxygen, oxygen[0].Device.Reference);

        var cpap = await SearchAsync<Observation>(client, $"/fhir/r4/Observation?device=Device/{Cpap}");
        Assert.Contains("urgent", cpap[1].Interpretation.Single().Text, StringComparison.Ordinal);
        Assert.Contains(cpap[0].Component, c => c.Code.Coding.Any(x => x.System == "urn:iso:std:iso:11073:10101" && x.Code == "151576"));
        var bipap = await SearchAsync<Observation>(client, $"/fhir/r4/Observation?device=Device/{Bipap}");
        Assert.Null(bipap[0].Subject); // no owner registered

        var report = (DiagnosticReport)reports.Entry.Single().Resource;
        Assert.EndsWith($"/v1/devices/{Ecg}/reports/rpt_fhir_1/pdf", report.PresentedForm.Single().Url, StringComparison.Ordinal);
        Assert.Equal("rpt.fhir.1", report.Id);
        Assert.Contains("PVC detected", report.Conclusion, StringComparison.Ordinal);

        var owned = await GetAsync<Hl7.Fhir.Model.Device>(client, $"/fhir/r4/Device/{Oxygen}");
        Assert.Equal((Patient, "urn:clinic-edge:device-owner"), (owned.Patient.Identifier.Value, owned.Patient.Identifier.System));
    }

    [Fact]
    public async Task Paging_returns_every_reading_exactly_once_and_the_filters_narrow_it()
    {
        var oxygen = Enumerable.Range(0, 23).Select(i => Readings.Oxygen(i + 1, _start.AddSeconds(i), serial: Oxygen)).ToList();
        var cpap = Enumerable.Range(0, 17).Select(i => Readings.Cpap(100 + i, _start.AddSeconds(i).AddMilliseconds(500), serial: Cpap)).ToList();
        await Stores.Oxygen.WriteAsync(oxygen, CancellationToken.None);
        await Stores.Cpap.WriteAsync(cpap, CancellationToken.None);
        var client = Integration("north");

        var seen = await PageThroughAsync(client, $"/fhir/r4/Observation?patient:identifier={Patient}&_count=7");
        var expected = oxygen.Concat(cpap).Select(r => "urn:uuid:" + r.Id).Order().ToList();
        Assert.Equal(expected, seen.Order().ToList());

        // A date range on one device, paged by 2.
        var window = await PageThroughAsync(client,
            $"/fhir/r4/Observation?device=Device/{Oxygen}&date=ge{Iso(_start.AddSeconds(5))}&date=lt{Iso(_start.AddSeconds(10))}&_count=2");
        Assert.Equal(oxygen.Skip(5).Take(5).Select(r => "urn:uuid:" + r.Id), window);

        // A LOINC code of a component: only the readings that carry it (the oxygen panels, not the CPAP ones).
        var flow = await PageThroughAsync(client, $"/fhir/r4/Observation?patient:identifier=urn:clinic-edge:device-owner|{Patient}&code={Loinc}|3151-8&_count=10");
        Assert.Equal(oxygen.Select(r => "urn:uuid:" + r.Id), flow);
    }

    [Fact]
    public async Task A_caller_of_clinic_b_sees_nothing_of_clinic_a()
    {
        await SeedEveryKindAsync();
        var north = Integration("north");
        var observation = (await SearchAsync<Observation>(north, $"/fhir/r4/Observation?device=Device/{Oxygen}"))[0];
        var report = (await SearchAsync<DiagnosticReport>(north, $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}"))[0];
        var south = Integration("south");

        var devices = await SearchAsync<Hl7.Fhir.Model.Device>(south, "/fhir/r4/Device");
        Assert.Equal([SouthEcg], devices.Select(d => d.Id));
        Assert.Empty(await SearchAsync<Hl7.Fhir.Model.Device>(south, $"/fhir/r4/Device?identifier={Oxygen}"));
        Assert.Empty(await SearchAsync<Hl7.Fhir.Model.Device>(south, $"/fhir/r4/Device?patient:identifier={Patient}"));
        Assert.Empty(await SearchAsync<Observation>(south, $"/fhir/r4/Observation?device=Device/{Oxygen}"));
        Assert.Empty(await SearchAsync<Observation>(south, $"/fhir/r4/Observation?patient:identifier={Patient}"));
        Assert.Empty(await SearchAsync<DiagnosticReport>(south, $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}"));
        Assert.Empty(await SearchAsync<DiagnosticReport>(south, $"/fhir/r4/DiagnosticReport?patient:identifier={EcgPatient}"));
        foreach (var url in new[] { $"/fhir/r4/Device/{Oxygen}", $"/fhir/r4/Observation/{observation.Id}", $"/fhir/r4/DiagnosticReport/{report.Id}" })
        {
            var outcome = await GetOutcomeAsync(south, url, HttpStatusCode.NotFound);
            Assert.DoesNotContain("north", outcome.Issue.Single().Diagnostics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Tokens_without_a_read_scope_or_a_reading_role_are_refused_with_an_OperationOutcome()
    {
        await SeedEveryKindAsync();
        var url = $"/fhir/r4/Observation?device=Device/{Oxygen}";

        var anonymous = await Api.Client(null).GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Bearer", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(OperationOutcome.IssueType.Login, FhirValidation.Parse<OperationOutcome>(await anonymous.Content.ReadAsStringAsync()).Issue.Single().Code);

        // A console user's token (no scope) does not open the FHIR API.
        await GetOutcomeAsync(Api.As("clinician", "north"), url, HttpStatusCode.Forbidden);
        // Neither does a scope without a role that reads telemetry.
        await GetOutcomeAsync(Api.Client(Api.Token("auditor", ["north"], "auditor-fhir", scopes: ["system/*.read"])), url, HttpStatusCode.Forbidden);
        await GetOutcomeAsync(Api.Client(Api.Token("clinician", ["north"], "writer", scopes: ["system/*.write"])), url, HttpStatusCode.Forbidden);

        // A scope for one type reads that type only.
        var devicesOnly = Api.Client(Api.Token("clinician", ["north"], "devices-only", scopes: ["system/Device.read"]));
        await GetAsync<Hl7.Fhir.Model.Device>(devicesOnly, $"/fhir/r4/Device/{Oxygen}");
        var refused = await GetOutcomeAsync(devicesOnly, url, HttpStatusCode.Forbidden);
        Assert.Contains("system/Observation.read", refused.Issue.Single().Diagnostics, StringComparison.Ordinal);
        await GetAsync<Bundle>(Api.Client(Api.Token("clinician", ["north"], "observations", scopes: ["system/Observation.read"])), url);

        // The CapabilityStatement is public, as the OpenAPI document is.
        await GetAsync<CapabilityStatement>(Api.Client(null), "/fhir/r4/metadata");
    }

    [Fact]
    public async Task Every_FHIR_read_is_in_the_audit_log_and_a_searched_patient_is_hidden_from_auditors()
    {
        await SeedEveryKindAsync();
        var client = Integration("north", subject: "engine-1");
        var observation = (await SearchAsync<Observation>(client, $"/fhir/r4/Observation?patient:identifier={Patient}&date=ge{Iso(_start)}"))[0];
        await GetAsync<Observation>(client, $"/fhir/r4/Observation/{observation.Id}");
        await GetAsync<Hl7.Fhir.Model.Device>(client, $"/fhir/r4/Device/{Ecg}");

        var rows = await AuditRowsAsync("engine-1");
        Assert.Contains(("fhir.read", "Observation", observation.Id, "north", (string?)null), rows);
        Assert.Contains(("fhir.read", "Device", Ecg, "north", (string?)null), rows);
        // The patient search read two devices: one row each, with the patient and how many resources it returned.
        Assert.Contains(("fhir.search", "Observation", Cpap, "north", (string?)Patient), rows);
        Assert.Contains(("fhir.search", "Observation", Oxygen, "north", (string?)Patient), rows);

        var audit = await ReadAsync(await Api.As("auditor", "north").GetAsync("/v1/audit?actor=engine-1"), HttpStatusCode.OK);
        Assert.NotEmpty(audit.GetProperty("items").EnumerateArray());
        Assert.DoesNotContain(Patient, audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_parameters_are_refused_naming_the_parameter()
    {
        var client = Integration("north");
        foreach (var (query, parameter) in new[]
        {
            ($"device=Device/{Oxygen}&_count=0", "_count"),
            ($"device=Device/{Oxygen}&_count=1001", "_count"),
            ($"device=Device/{Oxygen}&date=2026-13-01", "date"),
            ($"device=Device/{Oxygen}&date=ge2026-01-15T08:00:00", "date"),
            ($"device=Device/{Oxygen}&date=ge2026-01-16&date=lt2026-01-15", "date"),
            ($"device=Device/{Oxygen}&value-quantity=5", "value-quantity"),
            ($"device=Device/{Oxygen}&_page=not-ours", "_page"),
            ("date=ge2026-01-15", "device"),
            ($"patient:identifier=https://other.example/mrn|{Patient}", "patient:identifier"),
        })
        {
            var outcome = await GetOutcomeAsync(client, "/fhir/r4/Observation?" + query, HttpStatusCode.BadRequest);
            var issue = outcome.Issue.Single();
            Assert.Equal([parameter], issue.Expression);
            Assert.StartsWith(parameter + ":", issue.Diagnostics, StringComparison.Ordinal);
        }
        await GetOutcomeAsync(client, "/fhir/r4/Observation/not-an-id", HttpStatusCode.NotFound);
        await GetOutcomeAsync(client, "/fhir/r4/DiagnosticReport/no.such.report", HttpStatusCode.NotFound);
    }

    private async Task SeedEveryKindAsync()
    {
        await Stores.Cpap.WriteAsync(
        [
            Readings.Cpap(1, _start, serial: Cpap),
            Readings.Cpap(2, _start.AddSeconds(1), pressure: 19.5, leak: 61, serial: Cpap, urgent: true),
        ], CancellationToken.None);
        await Stores.Cpap.WriteAsync([Readings.Cpap(3, _start.AddSeconds(2), serial: Bipap, mode: "ST", firmware: null)], CancellationToken.None);
        await Stores.Oxygen.WriteAsync(
        [
            Readings.Oxygen(4, _start, serial: Oxygen),
            Readings.Oxygen(5, _start.AddSeconds(1), purity: 81, battery: null, alarm: "LOW_PURITY", serial: Oxygen),
        ], CancellationToken.None);
        await Stores.Ecg.WriteAsync(
        [
            Readings.Ecg(6, _start, serial: Ecg, hrv: 42),
            Readings.Ecg(7, _start.AddSeconds(1), heartRate: 131, arrhythmia: "AFib", quality: "fair", serial: Ecg),
        ], CancellationToken.None);
        await Stores.Ecg.WriteAsync([Readings.Ecg(8, _start, serial: SouthEcg)], CancellationToken.None);

        var reports = Api.Services.GetRequiredService<ReportStore>();
        foreach (var (serial, id, clinic) in new[] { (Ecg, "rpt_fhir_1", "north"), (SouthEcg, "rpt_fhir_2", "south") })
        {
            var json = $$$$"""{"serial":"{{{{serial}}}}","report":{"report_id":"{{{{id}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";
            var record = new ReportRecord(id, serial, ReportRecord.SourceGateway, Readings.Gateway, null, "reports", $"{clinic}/{serial}/{Guid.NewGuid()}.pdf",
                2048, new string('a', 32), new string('b', 64), json, _start.AddMinutes(1), _start.AddMinutes(1));
            Assert.Equal(RecordOutcome.Recorded, (await reports.RecordAsync(record, CancellationToken.None)).Outcome);
        }
    }

    private async Task RegisterOwnedAsync(string serial, string clinic, string? owner)
    {
        var response = await Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = clinic, owner, firmware = "v2.0.1" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An integration client of <paramref name="clinic"/>: a clinician token with <c>system/*.read</c>.</summary>
    private HttpClient Integration(string clinic, string subject = "integration-engine") =>
        Api.Client(Api.Token("clinician", [clinic], subject, scopes: ["system/*.read"]));

    private static async Task<T> GetAsync<T>(HttpClient client, string url) where T : Resource
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        Assert.Equal(FhirResults.ContentType, response.Content.Headers.ContentType?.MediaType);
        return FhirValidation.Parse<T>(body);
    }

    private static async Task<OperationOutcome> GetOutcomeAsync(HttpClient client, string url, HttpStatusCode expected)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {url}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
        Assert.Equal(FhirResults.ContentType, response.Content.Headers.ContentType?.MediaType);
        return FhirValidation.Parse<OperationOutcome>(body);
    }

    private static async Task<List<T>> SearchAsync<T>(HttpClient client, string url) where T : Resource
    {
        var bundle = await GetAsync<Bundle>(client, url);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        return [.. bundle.Entry.Select(e => Assert.IsType<T>(e.Resource))];
    }

    /// <summary>Follows the next links to the end; the readings' identifiers in the order they came.</summary>
    private static async Task<List<string>> PageThroughAsync(HttpClient client, string url)
    {
        var seen = new List<string>();
        string? next = url;
        for (var pages = 0; next is not null; pages++)
        {
            Assert.True(pages < 100, "more than 100 pages");
            var bundle = await GetAsync<Bundle>(client, next);
            seen.AddRange(bundle.Entry.Select(e => ((Observation)e.Resource).Identifier.Single().Value));
            next = bundle.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        }
        return seen;
    }

    private async Task<List<(string Action, string Type, string Id, string? Clinic, string? Owner)>> AuditRowsAsync(string actor)
    {
        await using var command = Probe.CreateCommand("SELECT action, target_type, target_id, clinic_id, after->>'owner' FROM audit_log WHERE actor = $1 ORDER BY id");
        command.Parameters.AddWithValue(actor);
        var rows = new List<(string, string, string, string?, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return rows;
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
