// Firely's POCOs declare every element nullable; see FhirTest.
#nullable disable warnings
using System.Net;
using Edge.Api.Fhir;
using Edge.Testing.Postgres;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// The FHIR surface's trust checks, one attack per case so each check fails its own case when it breaks: a caller of
/// clinic south reaching north's devices, patients, readings, reports and exports by every door the API has (search
/// parameters, ids, page tokens, the export's kick-off, status URL and cancel), tokens without a FHIR scope or the
/// resource's scope, and no token at all.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirAccessTests(PostgresServer server) : FhirTest(server)
{
    protected override bool NeedsBucket => true;

    /// <summary>Searches a south caller makes naming north's devices and patients (the south ECG's are south's own).</summary>
    public static TheoryData<string> NorthSearches => new()
    {
        $"/fhir/r4/Observation?device=Device/{Oxygen}",
        $"/fhir/r4/Observation?patient:identifier={Patient}",
        $"/fhir/r4/Observation?subject:identifier={EcgPatient}",
        $"/fhir/r4/Observation?device=Device/{Ecg}&patient:identifier={EcgPatient}",
        $"/fhir/r4/Observation?code={Loinc}|8867-4&patient:identifier={EcgPatient}",
        $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}",
        $"/fhir/r4/DiagnosticReport?patient:identifier={EcgPatient}",
        "/fhir/r4/Device",
        $"/fhir/r4/Device?identifier={Oxygen}",
        $"/fhir/r4/Device?_id={Oxygen}",
        $"/fhir/r4/Device?patient:identifier={Patient}",
        // A page token is the server's, but a client can forge one: it must not point the search at a north device.
        $"/fhir/r4/Observation?patient:identifier={SouthPatient}&_page={FhirSearch.EncodePage(Oxygen, "")}",
        $"/fhir/r4/Observation?patient:identifier={Patient}&_page={FhirSearch.EncodePage(Cpap, "")}",
        $"/fhir/r4/Device?_page={FhirSearch.EncodePage("device", Bipap)}",
    };

    [Theory]
    [MemberData(nameof(NorthSearches))]
    public async Task A_south_search_naming_north_returns_nothing_of_north(string url)
    {
        await SeedEveryKindAsync();

        var bundle = await GetAsync<Bundle>(Integration("south"), url);

        foreach (var entry in bundle.Entry)
        {
            var json = FhirResults.Serializer.SerializeToString(entry.Resource);
            Assert.DoesNotContain(NorthSerials, serial => json.Contains(serial, StringComparison.Ordinal));
            Assert.DoesNotContain(Patient, json, StringComparison.Ordinal);
            Assert.DoesNotContain(EcgPatient, json, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Device")]
    [InlineData("Observation")]
    [InlineData("DiagnosticReport")]
    public async Task A_south_read_of_a_north_resource_by_id_is_not_found(string type)
    {
        await SeedEveryKindAsync();
        // North reads it, so the id is real.
        var search = type == "Device" ? $"/fhir/r4/Device?identifier={Ecg}" : $"/fhir/r4/{type}?device=Device/{Ecg}";
        var id = (await SearchAsync<Resource>(Integration("north"), search))[0].Id;

        var outcome = await GetOutcomeAsync(Integration("south"), $"/fhir/r4/{type}/{id}", HttpStatusCode.NotFound);

        Assert.DoesNotContain("north", outcome.Issue.Single().Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_south_caller_cannot_start_poll_download_or_cancel_a_north_export()
    {
        await SeedEveryKindAsync();
        var north = Integration("north", "engine");
        var status = await KickOffAsync(north, "/fhir/r4/Group/north/$export");
        // The same subject in another clinic, and another subject in the same clinic: neither reaches the job.
        foreach (var other in new[] { Integration("south", "engine"), Integration("north", "someone-else") })
        {
            await ReadOutcomeAsync(await other.GetAsync(status), HttpStatusCode.NotFound);
            await ReadOutcomeAsync(await SendAsync(other, status, HttpMethod.Delete), HttpStatusCode.NotFound);
        }

        // The job was not cancelled by them: its files are there for its owner, with nothing of south in them.
        var files = await DownloadAsync(await PollAsync(north, status));
        Assert.Equal([Bipap, Cpap, Ecg, Oxygen], files["Device"].Select(d => d.Id).Order());
        Assert.DoesNotContain(files.Values.SelectMany(r => r), r => FhirResults.Serializer.SerializeToString(r).Contains(SouthEcg, StringComparison.Ordinal));

        // Nor may south start one of north: the group is as absent as one that does not exist.
        var refused = await ReadOutcomeAsync(await SendAsync(Integration("south", "engine"), "/fhir/r4/Group/north/$export"), HttpStatusCode.NotFound);
        Assert.Equal(refused.Issue.Single().Diagnostics.Replace("north", "nowhere", StringComparison.Ordinal),
            (await ReadOutcomeAsync(await SendAsync(Integration("south", "engine"), "/fhir/r4/Group/nowhere/$export"), HttpStatusCode.NotFound)).Issue.Single().Diagnostics);
    }

    /// <summary>Every FHIR endpoint but the CapabilityStatement, with what a client sends to it.</summary>
    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", $"/fhir/r4/Device/{Oxygen}" },
        { "GET", "/fhir/r4/Device" },
        { "GET", $"/fhir/r4/Observation/{Oxygen}~0~00000000-0000-0000-0000-000000000000" },
        { "GET", $"/fhir/r4/Observation?device=Device/{Oxygen}" },
        { "GET", "/fhir/r4/DiagnosticReport/rpt.fhir.1" },
        { "GET", $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}" },
        { "GET", "/fhir/r4/Group/north/$export" },
        { "GET", "/fhir/r4/$export-status/5f0c6a2e-4c1b-4a8e-9a57-0d3e2b1c9f10" },
        { "DELETE", "/fhir/r4/$export-status/5f0c6a2e-4c1b-4a8e-9a57-0d3e2b1c9f10" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_a_token_every_endpoint_answers_401_with_an_OperationOutcome(string method, string url)
    {
        var response = await SendAsync(Api.Client(null), url, new HttpMethod(method));

        var outcome = await ReadOutcomeAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(OperationOutcome.IssueType.Login, outcome.Issue.Single().Code);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_token_without_a_FHIR_scope_is_refused_everywhere(string method, string url)
    {
        // A console user's token (no scope) does not open the FHIR API; neither does a write scope, nor a scope without a reading role.
        foreach (var client in new[]
        {
            Api.As("clinician", "north"),
            Api.Client(Api.Token("clinician", ["north"], "writer", scopes: ["system/*.write"])),
            Api.Client(Api.Token("auditor", ["north"], "auditor-fhir", scopes: ["system/*.read"])),
        })
        {
            var outcome = await ReadOutcomeAsync(await SendAsync(client, url, new HttpMethod(method)), HttpStatusCode.Forbidden);
            Assert.Equal(OperationOutcome.IssueType.Forbidden, outcome.Issue.Single().Code);
        }
    }

    [Theory]
    [InlineData("system/Device.read", $"/fhir/r4/Observation?device=Device/{Oxygen}", "system/Observation.read")]
    [InlineData("system/Device.read", "/fhir/r4/Observation/OXY-8844-5521~0~00000000-0000-0000-0000-000000000000", "system/Observation.read")]
    [InlineData("system/Observation.read", $"/fhir/r4/Device/{Oxygen}", "system/Device.read")]
    [InlineData("system/Observation.read", "/fhir/r4/Device", "system/Device.read")]
    [InlineData("system/Observation.read", $"/fhir/r4/DiagnosticReport?device=Device/{Ecg}", "system/DiagnosticReport.read")]
    [InlineData("system/Observation.read", "/fhir/r4/DiagnosticReport/rpt.fhir.1", "system/DiagnosticReport.read")]
    [InlineData("system/Observation.read", "/fhir/r4/Group/north/$export", "system/Device.read")]
    [InlineData("system/Observation.read", "/fhir/r4/Group/north/$export?_type=Observation,DiagnosticReport", "system/DiagnosticReport.read")]
    public async Task A_scope_for_one_type_reads_that_type_only(string scope, string url, string needed)
    {
        await SeedEveryKindAsync();

        var refused = await ReadOutcomeAsync(await SendAsync(Integration("north", "one-type", scope), url), HttpStatusCode.Forbidden);

        Assert.Contains(needed, refused.Issue.Single().Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scope_for_a_type_reads_it_and_the_CapabilityStatement_is_public()
    {
        await SeedEveryKindAsync();
        await GetAsync<Hl7.Fhir.Model.Device>(Integration("north", "devices-only", "system/Device.read"), $"/fhir/r4/Device/{Oxygen}");
        Assert.Equal(2, (await SearchAsync<Observation>(Integration("north", "observations", "system/Observation.read"), $"/fhir/r4/Observation?device=Device/{Oxygen}")).Count);
        var manifest = await ExportAsync(Integration("north", "observations", "system/Observation.read"), "/fhir/r4/Group/north/$export?_type=Observation");
        Assert.Equal(["Observation"], manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
        await GetAsync<CapabilityStatement>(Api.Client(null), "/fhir/r4/metadata");
    }
}
