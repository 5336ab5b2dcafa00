// Firely's POCOs declare every element nullable; the FHIR tests dereference what the mapping promises is there, and a
// missing element fails the test with a NullReferenceException as clearly as an assertion would.
#nullable disable warnings
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Fhir;
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
/// The FHIR test classes' one setup: the real API (and s3rver for the export), clinics north and south, north's CPAP,
/// BiPAP, oxygen concentrator and ECG (two of them owned by <see cref="Patient"/>) and south's ECG, the seeding of every
/// kind, integration clients with SMART scopes, and the requests and assertions FHIR clients make.
/// </summary>
public abstract class FhirTest(PostgresServer server) : ApiTest(server)
{
    protected const string Cpap = "CPAP-2301-9912";
    protected const string Bipap = "BIPAP-2301-9913";
    protected const string Oxygen = "OXY-8844-5521";
    protected const string Ecg = "ECG-7711-0045";
    protected const string SouthEcg = "ECG-7711-0046";
    protected const string Patient = "MRN-1001";
    protected const string EcgPatient = "MRN-1002";
    protected const string SouthPatient = "MRN-2001";
    protected const string Loinc = "http://loinc.org";

    /// <summary>North's serials: nothing a south caller receives may name one.</summary>
    protected static readonly string[] NorthSerials = [Cpap, Bipap, Oxygen, Ecg];

    private S3rverServer _s3;

    /// <summary>After registration: a clinic reads the readings its gateways received from then on (its ownership period).</summary>
    protected DateTimeOffset Start { get; private set; }

    /// <summary>Whether the class needs the report bucket (the bulk export writes there); s3rver starts only then.</summary>
    protected virtual bool NeedsBucket => false;

    protected S3rverServer S3 => _s3 ?? throw new InvalidOperationException("This class does not start s3rver (NeedsBucket).");

    protected StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    protected override string[] ApiSettings() => _s3?.ReportSettings ?? [];

    public override async Task InitializeAsync()
    {
        if (NeedsBucket)
        {
            _s3 = await S3rverServer.StartNewAsync();
        }
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterOwnedAsync(Cpap, "north", Patient);
        await RegisterOwnedAsync(Bipap, "north", null);
        await RegisterOwnedAsync(Oxygen, "north", Patient);
        await RegisterOwnedAsync(Ecg, "north", EcgPatient);
        await RegisterOwnedAsync(SouthEcg, "south", SouthPatient);
        var now = TimeProvider.System.GetUtcNow();
        Start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(2);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_s3 is not null)
        {
            await _s3.DisposeAsync();
        }
    }

    /// <summary>Two or three readings of every kind (an urgent CPAP, a purity alarm, an AFib ECG), one of south's, and an ECG report each.</summary>
    protected async Task SeedEveryKindAsync()
    {
        await Stores.Cpap.WriteAsync(
        [
            Readings.Cpap(1, Start, serial: Cpap),
            Readings.Cpap(2, Start.AddSeconds(1), pressure: 19.5, leak: 61, serial: Cpap, urgent: true),
        ], CancellationToken.None);
        await Stores.Cpap.WriteAsync([Readings.Cpap(3, Start.AddSeconds(2), serial: Bipap, mode: "ST", firmware: null)], CancellationToken.None);
        await Stores.Oxygen.WriteAsync(
        [
            Readings.Oxygen(4, Start, serial: Oxygen),
            Readings.Oxygen(5, Start.AddSeconds(1), purity: 81, battery: null, alarm: "LOW_PURITY", serial: Oxygen),
        ], CancellationToken.None);
        await Stores.Ecg.WriteAsync(
        [
            Readings.Ecg(6, Start, serial: Ecg, hrv: 42),
            Readings.Ecg(7, Start.AddSeconds(1), heartRate: 131, arrhythmia: "AFib", quality: "fair", serial: Ecg),
        ], CancellationToken.None);
        await Stores.Ecg.WriteAsync([Readings.Ecg(8, Start, serial: SouthEcg)], CancellationToken.None);
        await RecordReportsAsync((Ecg, "rpt_fhir_1", "north"), (SouthEcg, "rpt_fhir_2", "south"));
    }

    /// <summary>Records ECG reports (received a minute after <see cref="Start"/>) as the report uplink would.</summary>
    protected async Task RecordReportsAsync(params (string Serial, string Id, string Clinic)[] reports)
    {
        var store = Api.Services.GetRequiredService<ReportStore>();
        foreach (var (serial, id, clinic) in reports)
        {
            var json = $$$$"""{"serial":"{{{{serial}}}}","report":{"report_id":"{{{{id}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";
            var record = new ReportRecord(id, serial, ReportRecord.SourceGateway, Readings.Gateway, null, _s3?.Bucket ?? "reports", $"{clinic}/{serial}/{Guid.NewGuid()}.pdf",
                2048, new string('a', 32), new string('b', 64), json, Start.AddMinutes(1), Start.AddMinutes(1));
            Assert.Equal(RecordOutcome.Recorded, (await store.RecordAsync(record, CancellationToken.None)).Outcome);
        }
    }

    private async Task RegisterOwnedAsync(string serial, string clinic, string owner)
    {
        var response = await Admin.PostAsJsonAsync("/v1/devices", new { serial, clinic_id = clinic, owner, firmware = "v2.0.1" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An integration client of <paramref name="clinic"/>: a clinician token with <paramref name="scope"/> (<c>system/*.read</c>).</summary>
    protected HttpClient Integration(string clinic, string subject = "integration-engine", string scope = "system/*.read") =>
        Api.Client(Api.Token("clinician", [clinic], subject, scopes: [scope]));

    protected static async Task<T> GetAsync<T>(HttpClient client, string url) where T : Resource
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        Assert.Equal(FhirResults.ContentType, response.Content.Headers.ContentType?.MediaType);
        return FhirValidation.Parse<T>(body);
    }

    protected static async Task<OperationOutcome> GetOutcomeAsync(HttpClient client, string url, HttpStatusCode expected) =>
        await ReadOutcomeAsync(await client.GetAsync(url), expected);

    /// <summary>The response's OperationOutcome, after checking its status and that it is <c>application/fhir+json</c>.</summary>
    protected static async Task<OperationOutcome> ReadOutcomeAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
        Assert.Equal(FhirResults.ContentType, response.Content.Headers.ContentType?.MediaType);
        return FhirValidation.Parse<OperationOutcome>(body);
    }

    protected static async Task<List<T>> SearchAsync<T>(HttpClient client, string url) where T : Resource
    {
        var bundle = await GetAsync<Bundle>(client, url);
        Assert.Equal(Bundle.BundleType.Searchset, bundle.Type);
        return [.. bundle.Entry.Select(e => Assert.IsAssignableFrom<T>(e.Resource))];
    }

    /// <summary>Follows the next links to the end; the readings' identifiers in the order they came.</summary>
    protected static async Task<List<string>> PageThroughAsync(HttpClient client, string url)
    {
        var seen = new List<string>();
        string next = url;
        for (var pages = 0; next is not null; pages++)
        {
            Assert.True(pages < 100, "more than 100 pages");
            var bundle = await GetAsync<Bundle>(client, next);
            seen.AddRange(bundle.Entry.Select(e => ((Observation)e.Resource).Identifier.Single().Value));
            next = bundle.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        }
        return seen;
    }

    /// <summary>A Bulk Data request: <c>Accept: application/fhir+json</c>, <c>Prefer: respond-async</c> (and more preferences).</summary>
    protected static Task<HttpResponseMessage> SendAsync(HttpClient client, string url, HttpMethod method = null, string prefer = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        request.Headers.TryAddWithoutValidation("Prefer", prefer is null ? "respond-async" : "respond-async, " + prefer);
        return client.SendAsync(request);
    }

    /// <summary>Kicks off an export and returns its status URL.</summary>
    protected static async Task<string> KickOffAsync(HttpClient client, string url, string prefer = null)
    {
        var kickOff = await SendAsync(client, url, prefer: prefer);
        Assert.True(kickOff.StatusCode == HttpStatusCode.Accepted, await kickOff.Content.ReadAsStringAsync());
        return kickOff.Content.Headers.ContentLocation!.ToString();
    }

    protected static async Task<JsonElement> ExportAsync(HttpClient client, string url) => await PollAsync(client, await KickOffAsync(client, url));

    /// <summary>Polls the status URL until the export is done; its manifest.</summary>
    protected static async Task<JsonElement> PollAsync(HttpClient client, string status)
    {
        HttpResponseMessage done = null;
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

    /// <summary>The resources of each file of a manifest, downloaded by their presigned links (no token) and parsed with the SDK.</summary>
    protected static async Task<Dictionary<string, List<Resource>>> DownloadAsync(JsonElement manifest)
    {
        var parsed = new Dictionary<string, List<Resource>>();
        using var anonymous = new HttpClient();
        foreach (var output in manifest.GetProperty("output").EnumerateArray())
        {
            var ndjson = await anonymous.GetStringAsync(output.GetProperty("url").GetString());
            var resources = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => FhirValidation.Parser.DeserializeResource(line)).ToList();
            Assert.All(resources, r => Assert.Equal(output.GetProperty("type").GetString(), r.TypeName));
            Assert.Equal(output.GetProperty("count").GetInt64(), resources.Count);
            parsed[output.GetProperty("type").GetString()!] = resources;
        }
        return parsed;
    }

    protected static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
