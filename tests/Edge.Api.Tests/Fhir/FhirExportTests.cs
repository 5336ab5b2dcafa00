// Firely's POCOs declare every element nullable; see FhirTest.
#nullable disable warnings
using System.Net;
using Edge.Api.Fhir;
using Edge.Storage.Reports;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// FHIR bulk export of a clinic against the real API, PostgreSQL and s3rver: kick-off, status polling, the manifest, and
/// NDJSON files whose every line the SDK parses back, as many as the stores hold for the clinic and nothing of another;
/// <c>_type</c>, <c>_since</c>, cancelling, and parameters the server does not support. Who may reach an export:
/// <see cref="FhirAccessTests"/>.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FhirExportTests(PostgresServer server) : FhirTest(server)
{
    protected override bool NeedsBucket => true;

    [Fact]
    public async Task A_clinic_export_round_trips_through_NDJSON_in_S3()
    {
        var seeded = await SeedAsync();
        var client = Integration("north", "warehouse");

        var manifest = await ExportAsync(client, "/fhir/r4/Group/north/$export");

        Assert.Equal(["Device", "Observation", "DiagnosticReport"], manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
        Assert.False(manifest.GetProperty("requiresAccessToken").GetBoolean());
        var parsed = await DownloadAsync(manifest);
        foreach (var resources in parsed.Values)
        {
            FhirValidation.AssertValid(resources[0]);
        }

        // As many as the stores hold for the clinic, each once, and nothing of the other clinic.
        Assert.Equal(await StoredCountAsync(), parsed["Observation"].Count);
        var exported = parsed["Observation"].Cast<Observation>().Select(o => o.Identifier.Single().Value).Order().ToList();
        Assert.Equal(seeded.Select(id => "urn:uuid:" + id).Order().ToList(), exported);
        Assert.Equal([Bipap, Cpap, Ecg, Oxygen], parsed["Device"].Select(d => d.Id).Order());
        Assert.Equal(["rpt.north.1", "rpt.north.2"], parsed["DiagnosticReport"].Select(d => d.Id).Order());
        Assert.Equal(Patient, parsed["Observation"].Cast<Observation>().First(o => o.Device.Reference == "Device/" + Oxygen).Subject.Identifier.Value);

        // The kick-off is in the audit log.
        await using var command = Probe.CreateCommand("SELECT count(*) FROM audit_log WHERE actor = 'warehouse' AND action = 'fhir.export' AND target_id = 'north'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Type_restricts_the_export_and_an_unknown_type_is_refused_naming_the_parameter()
    {
        await SeedAsync();
        var client = Integration("north", "engine");

        var bad = await ReadOutcomeAsync(await SendAsync(client, "/fhir/r4/Group/north/$export?_type=Observation,Patient"), HttpStatusCode.BadRequest);
        Assert.Equal(["_type"], bad.Issue.Single().Expression);
        Assert.Contains("Patient", bad.Issue.Single().Diagnostics, StringComparison.Ordinal);

        var manifest = await ExportAsync(client, "/fhir/r4/Group/north/$export?_type=DiagnosticReport,Device");
        Assert.Equal(["DiagnosticReport", "Device"], manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Since_exports_what_was_received_at_or_after_it_including_a_late_backlog()
    {
        // Ten readings received a second apart, and three recorded an hour earlier that a gateway sent only later (it
        // was offline): a warehouse that loaded up to the cut-off never saw them, so the next _since export has them.
        var live = Enumerable.Range(0, 10).Select(i => Readings.Oxygen(i + 1, Start.AddSeconds(i), serial: Oxygen)).ToList();
        var backlog = Enumerable.Range(0, 3)
            .Select(i => Readings.Oxygen(50 + i, Start.AddHours(-1).AddSeconds(i), serial: Oxygen) with { GatewayReceivedAt = Start.AddSeconds(20) }).ToList();
        await Stores.Oxygen.WriteAsync([.. live, .. backlog], CancellationToken.None);
        await RecordReportsAsync((Ecg, "rpt_since_1", "north"));
        var client = Integration("north", "warehouse");
        var cutOff = live[5].GatewayReceivedAt;

        var files = await DownloadAsync(await ExportAsync(client, $"/fhir/r4/Group/north/$export?_since={Iso(cutOff)}&_type=Observation,DiagnosticReport"));

        var expected = live.Skip(5).Concat(backlog).Select(r => "urn:uuid:" + r.Id).Order().ToList();
        Assert.Equal(expected, files["Observation"].Cast<Observation>().Select(o => o.Identifier.Single().Value).Order().ToList());
        // The report was received a minute after Start: after the cut-off.
        Assert.Equal(["rpt.since.1"], files["DiagnosticReport"].Select(r => r.Id));

        // After everything was received, nothing (the same offset written as +00:00 means the same instant).
        var later = (Start.AddMinutes(5)).ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", System.Globalization.CultureInfo.InvariantCulture);
        var none = await DownloadAsync(await ExportAsync(client, $"/fhir/r4/Group/north/$export?_since={Uri.EscapeDataString(later)}&_type=Observation,DiagnosticReport"));
        Assert.Empty(none["Observation"]);
        Assert.Empty(none["DiagnosticReport"]);

        foreach (var since in new[] { "yesterday", "2026-12-01", "2026-12-01T10:00:00" })
        {
            var bad = await ReadOutcomeAsync(await SendAsync(client, $"/fhir/r4/Group/north/$export?_since={since}"), HttpStatusCode.BadRequest);
            Assert.Equal(["_since"], bad.Issue.Single().Expression);
        }
    }

    [Fact]
    public async Task Delete_on_a_finished_export_removes_its_files_and_the_status_url_then_answers_404()
    {
        await SeedAsync();
        var client = Integration("north", "engine");
        var status = await KickOffAsync(client, "/fhir/r4/Group/north/$export");
        var manifest = await PollAsync(client, status);
        var links = manifest.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("url").GetString()).ToList();
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(links[0])).StatusCode);

        var cancelled = await ReadOutcomeAsync(await SendAsync(client, status, HttpMethod.Delete), HttpStatusCode.Accepted);

        Assert.Equal(OperationOutcome.IssueSeverity.Information, cancelled.Issue.Single().Severity);
        await ReadOutcomeAsync(await client.GetAsync(status), HttpStatusCode.NotFound);
        await ReadOutcomeAsync(await SendAsync(client, status, HttpMethod.Delete), HttpStatusCode.NotFound);
        foreach (var link in links)
        {
            // The links were valid for an hour; the objects behind them are gone.
            Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(link)).StatusCode);
        }
        await using var command = Probe.CreateCommand("SELECT count(*) FROM audit_log WHERE actor = 'engine' AND action = 'fhir.export.cancel' AND target_id = 'north'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Delete_on_a_queued_or_running_export_stops_it_and_leaves_no_files()
    {
        await SeedAsync();
        var client = Integration("north", "engine");
        var status = await KickOffAsync(client, "/fhir/r4/Group/north/$export");

        await ReadOutcomeAsync(await SendAsync(client, status, HttpMethod.Delete), HttpStatusCode.Accepted);

        await ReadOutcomeAsync(await client.GetAsync(status), HttpStatusCode.NotFound);
        // The runner takes one job at a time: once the next export is done, it is done with the cancelled one too.
        await ExportAsync(client, "/fhir/r4/Group/north/$export?_type=Device");
        var objects = Api.Services.GetRequiredService<ReportObjects>();
        var id = status[(status.LastIndexOf('/') + 1)..];
        using var anonymous = new HttpClient();
        foreach (var type in new[] { "Device", "Observation", "DiagnosticReport" })
        {
            var (url, _) = await objects.PresignGetAsync($"fhir-exports/north/{id}/{type}.ndjson", FhirExportRunner.NdjsonContentType, TimeSpan.FromMinutes(5));
            Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(url)).StatusCode);
        }
        await using var command = Probe.CreateCommand($"SELECT state, output IS NULL FROM fhir_export_jobs WHERE id = '{Guid.Parse(id):D}'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(("cancelled", true), (reader.GetString(0), reader.GetBoolean(1)));
    }

    [Fact]
    public async Task An_export_of_many_pages_reads_back_whole_and_in_order()
    {
        // Five store pages, read while the previous one is serialized on every core: the file keeps the store's order.
        var readings = Enumerable.Range(0, 4500).Select(i => Readings.Oxygen(i + 1, Start.AddMilliseconds(i * 20L), serial: Oxygen)).ToList();
        for (var i = 0; i < readings.Count; i += 1000)
        {
            await Stores.Oxygen.WriteAsync(readings.Skip(i).Take(1000).ToList(), CancellationToken.None);
        }

        var manifest = await ExportAsync(Integration("north", "warehouse"), "/fhir/r4/Group/north/$export?_type=Observation");

        using var anonymous = new HttpClient();
        var ndjson = await anonymous.GetByteArrayAsync(manifest.GetProperty("output")[0].GetProperty("url").GetString());
        var lines = System.Text.Encoding.UTF8.GetString(ndjson).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(readings.Count, manifest.GetProperty("output")[0].GetProperty("count").GetInt64());
        var ids = lines.Select(line => FhirValidation.Parser.DeserializeResource(line)).Cast<Observation>().Select(o => o.Identifier.Single().Value).ToList();
        Assert.Equal(readings.Select(r => "urn:uuid:" + r.Id), ids);
    }

    [Theory]
    [InlineData("_typeFilter=Observation%3Fcode%3Dhttp%3A%2F%2Floinc.org%7C8867-4", "_typeFilter")]
    [InlineData("patient=Patient%2F123", "patient")]
    [InlineData("_elements=id", "_elements")]
    [InlineData("includeAssociatedData=LatestProvenanceResources", "includeAssociatedData")]
    [InlineData("_count=10", "_count")]
    [InlineData("_outputFormat=text%2Fcsv", "_outputFormat")]
    public async Task An_unsupported_kick_off_parameter_is_refused_naming_it_unless_the_client_prefers_lenient(string query, string parameter)
    {
        await SeedAsync();
        var client = Integration("north", "engine");

        var refused = await ReadOutcomeAsync(await SendAsync(client, $"/fhir/r4/Group/north/$export?_type=Device&{query}"), HttpStatusCode.BadRequest);

        Assert.Equal([parameter], refused.Issue.Single().Expression);
        Assert.StartsWith(parameter + ":", refused.Issue.Single().Diagnostics, StringComparison.Ordinal);
        if (parameter != "_outputFormat")
        {
            // Bulk Data: with Prefer: handling=lenient the server ignores what it does not support, and exports as asked otherwise.
            var manifest = await PollAsync(client, await KickOffAsync(client, $"/fhir/r4/Group/north/$export?_type=Device&{query}", prefer: "handling=lenient"));
            Assert.Equal(4L, manifest.GetProperty("output")[0].GetProperty("count").GetInt64());
        }
    }

    private async Task<List<Guid>> SeedAsync()
    {
        var cpap = Enumerable.Range(0, 30).Select(i => Readings.Cpap(i + 1, Start.AddSeconds(i), serial: Cpap)).ToList();
        var oxygen = Enumerable.Range(0, 25).Select(i => Readings.Oxygen(100 + i, Start.AddSeconds(i), serial: Oxygen, alarm: i == 3 ? "E07" : null)).ToList();
        var ecg = Enumerable.Range(0, 20).Select(i => Readings.Ecg(200 + i, Start.AddSeconds(i), serial: Ecg, arrhythmia: i == 5 ? "PVC" : "none")).ToList();
        var south = Enumerable.Range(0, 5).Select(i => Readings.Ecg(300 + i, Start.AddSeconds(i), serial: SouthEcg)).ToList();
        await Stores.Cpap.WriteAsync(cpap, CancellationToken.None);
        await Stores.Oxygen.WriteAsync(oxygen, CancellationToken.None);
        await Stores.Ecg.WriteAsync(ecg, CancellationToken.None);
        await Stores.Ecg.WriteAsync(south, CancellationToken.None);
        await RecordReportsAsync((Ecg, "rpt_north_1", "north"), (Ecg, "rpt_north_2", "north"), (SouthEcg, "rpt_south_1", "south"));
        return [.. cpap.Concat(oxygen).Concat(ecg).Select(r => r.Id)];
    }

    private async Task<long> StoredCountAsync()
    {
        await using var command = Probe.CreateCommand("""
            SELECT (SELECT count(*) FROM cpap_device_data WHERE serial = ANY($1)) + (SELECT count(*) FROM oxygen_readings WHERE serial = $2)
                 + (SELECT count(*) FROM ecg_readings WHERE serial = $3)
            """);
        command.Parameters.AddWithValue(new[] { Cpap, Bipap });
        command.Parameters.AddWithValue(Oxygen);
        command.Parameters.AddWithValue(Ecg);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
