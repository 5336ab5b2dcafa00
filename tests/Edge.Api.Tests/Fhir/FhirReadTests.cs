// Firely's POCOs declare every element nullable; see FhirTest.
#nullable disable warnings
using System.Net;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// The FHIR R4 read API against the real API host and PostgreSQL: every resource it produces validates against the base
/// specification, paging returns every reading once, bad parameters are refused naming them, and every read is audited.
/// Another clinic and tokens without scopes: <see cref="FhirAccessTests"/>.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirReadTests(PostgresServer server) : FhirTest(server)
{
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
        var oxygen = Enumerable.Range(0, 23).Select(i => Readings.Oxygen(i + 1, Start.AddSeconds(i), serial: Oxygen)).ToList();
        var cpap = Enumerable.Range(0, 17).Select(i => Readings.Cpap(100 + i, Start.AddSeconds(i).AddMilliseconds(500), serial: Cpap)).ToList();
        await Stores.Oxygen.WriteAsync(oxygen, CancellationToken.None);
        await Stores.Cpap.WriteAsync(cpap, CancellationToken.None);
        var client = Integration("north");

        var seen = await PageThroughAsync(client, $"/fhir/r4/Observation?patient:identifier={Patient}&_count=7");
        var expected = oxygen.Concat(cpap).Select(r => "urn:uuid:" + r.Id).Order().ToList();
        Assert.Equal(expected, seen.Order().ToList());

        // A date range on one device, paged by 2.
        var window = await PageThroughAsync(client,
            $"/fhir/r4/Observation?device=Device/{Oxygen}&date=ge{Iso(Start.AddSeconds(5))}&date=lt{Iso(Start.AddSeconds(10))}&_count=2");
        Assert.Equal(oxygen.Skip(5).Take(5).Select(r => "urn:uuid:" + r.Id), window);

        // A LOINC code of a component: only the readings that carry it (the oxygen panels, not the CPAP ones).
        var flow = await PageThroughAsync(client, $"/fhir/r4/Observation?patient:identifier=urn:clinic-edge:device-owner|{Patient}&code={Loinc}|3151-8&_count=10");
        Assert.Equal(oxygen.Select(r => "urn:uuid:" + r.Id), flow);
    }

    [Fact]
    public async Task Every_FHIR_read_is_in_the_audit_log_and_a_searched_patient_is_hidden_from_auditors()
    {
        await SeedEveryKindAsync();
        var client = Integration("north", subject: "engine-1");
        var observation = (await SearchAsync<Observation>(client, $"/fhir/r4/Observation?patient:identifier={Patient}&date=ge{Iso(Start)}"))[0];
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

    [Fact]
    public async Task The_FHIR_path_in_capitals_behaves_as_the_lower_case_one()
    {
        await SeedEveryKindAsync();
        var client = Integration("north");

        // Routing ignores the case, so must every check of the path: the same bundle, and refusals as OperationOutcomes.
        var lower = await SearchAsync<Observation>(client, $"/fhir/r4/Observation?device=Device/{Oxygen}");
        var upper = await SearchAsync<Observation>(client, $"/FHIR/R4/Observation?device=Device/{Oxygen}");
        Assert.Equal(lower.Select(o => o.Id), upper.Select(o => o.Id));
        Assert.Equal(2, upper.Count);

        var anonymous = await ReadOutcomeAsync(await Api.Client(null).GetAsync($"/FHIR/R4/Observation?device=Device/{Oxygen}"), HttpStatusCode.Unauthorized);
        Assert.Equal(OperationOutcome.IssueType.Login, anonymous.Issue.Single().Code);
        var console = await ReadOutcomeAsync(await Api.As("clinician", "north").GetAsync($"/Fhir/R4/Device/{Oxygen}"), HttpStatusCode.Forbidden);
        Assert.Equal(OperationOutcome.IssueType.Forbidden, console.Issue.Single().Code);
        var bad = await GetOutcomeAsync(client, $"/FHIR/R4/Observation?device=Device/{Oxygen}&_count=0", HttpStatusCode.BadRequest);
        Assert.Equal(["_count"], bad.Issue.Single().Expression);
        // A resource type this server does not serve (no endpoint, so the API's deny-by-default policy refuses it): an
        // OperationOutcome in either case, not a problem document.
        Assert.Equal(OperationOutcome.IssueType.Forbidden, (await GetOutcomeAsync(client, "/FHIR/R4/Patient", HttpStatusCode.Forbidden)).Issue.Single().Code);
        Assert.Equal(OperationOutcome.IssueType.Forbidden, (await GetOutcomeAsync(client, "/fhir/r4/Patient", HttpStatusCode.Forbidden)).Issue.Single().Code);
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

}
