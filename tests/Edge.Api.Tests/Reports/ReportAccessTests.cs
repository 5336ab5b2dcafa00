using System.Net;
using System.Net.Http.Json;
using System.Text;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Edge.Testing.S3;

namespace Edge.Api.Tests.Reports;

/// <summary>ECG reports across clinics: each clinic lists the reports of its own ownership periods, and a taken report id names no other clinic's device.</summary>
[Collection(PostgresServer.Collection)]
public sealed class ReportAccessTests(PostgresServer server) : ApiTest(server)
{
    private const string Ecg = "ECG-7711-0045";
    private const string SouthEcg = "ECG-7711-0046";

    private S3rverServer _s3 = null!;

    protected override string[] ApiSettings() => _s3.ReportSettings;

    public override async Task InitializeAsync()
    {
        _s3 = await S3rverServer.StartNewAsync();
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterDeviceAsync(Ecg, "north");
        await RegisterDeviceAsync(SouthEcg, "south");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _s3.DisposeAsync();
    }

    [Fact]
    public async Task After_a_transfer_each_clinic_lists_only_the_reports_of_its_own_period()
    {
        await ReadAsync(await UploadAsync(Api.As("clinician", "north"), Ecg, "rpt_north"), HttpStatusCode.Created);
        (await Admin.PostAsJsonAsync($"/v1/devices/{Ecg}/transfer", new { clinic_id = "south" })).EnsureSuccessStatusCode();
        await ReadAsync(await UploadAsync(Api.As("clinician", "south"), Ecg, "rpt_south"), HttpStatusCode.Created);

        Assert.Equal(["rpt_south"], await ListAsync(Api.As("clinician", "south")));
        Assert.Equal(["rpt_north"], await ListAsync(Api.As("clinician", "north")));
        Assert.Equal(["rpt_south", "rpt_north"], await ListAsync(Admin));
        // The old clinic reads its history but may no longer add to it.
        await ReadAsync(await UploadAsync(Api.As("clinician", "north"), Ecg, "rpt_late"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_taken_report_id_names_no_other_clinics_device()
    {
        await ReadAsync(await UploadAsync(Api.As("clinician", "north"), Ecg, "rpt_shared"), HttpStatusCode.Created);

        var conflict = await ReadAsync(await UploadAsync(Api.As("clinician", "south"), SouthEcg, "rpt_shared"), HttpStatusCode.Conflict);

        Assert.DoesNotContain(Ecg, conflict.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("north", conflict.GetRawText(), StringComparison.Ordinal);
    }

    private async Task<List<string?>> ListAsync(HttpClient client)
    {
        var page = await ReadAsync(await client.GetAsync($"/v1/devices/{Ecg}/reports"), HttpStatusCode.OK);
        return page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("report_id").GetString()).ToList();
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string serial, string reportId)
    {
        var report = $$$$"""{"serial":"{{{{serial}}}}","report":{"report_id":"{{{{reportId}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.7\n" + reportId + "\n%%EOF\n");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(report, Encoding.UTF8, "application/json"), "report" },
        };
        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "pdf", "report.pdf");
        return await client.PostAsync($"/v1/devices/{serial}/reports", form);
    }
}
