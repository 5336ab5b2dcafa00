using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Api.Tests.Infrastructure;
using Edge.Contracts.Identity;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Ingest;
using Edge.Storage.Quarantine;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Edge.Testing.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Api.Tests.Contracts;

/// <summary>
/// The API against its own document, docs/openapi/v1.json, which mobile and OEM developers generate clients from: every
/// operation is called with valid and invalid requests on the real API (PostgreSQL, the gateway CA, s3rver; the
/// certificate renewal on HTTPS with a gateway's client certificate, the live stream as a real WebSocket upgrade), every
/// request it accepts must be one the document allows, and every response must be declared (status, media type, body
/// schema). Then every operation is called without a token and with a token of the wrong role. An operation of the
/// document that no call reached fails the test, so a new endpoint cannot ship without being checked here.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class OpenApiContractTests(PostgresServer server) : ApiTest(server), IDisposable
{
    private const string Clinic = "c1";
    private const string Gateway = Readings.Gateway;
    private const string Oxygen = "OXY-8844-5521";
    private const string Ecg = "ECG-7711-0045";
    private static readonly DateTimeOffset Start = Readings.January15;

    /// <summary>
    /// Operations whose success the test cannot reach here, and why; each is still called with invalid requests. The
    /// test fails if one of them does succeed, so the list only shrinks.
    /// </summary>
    private static readonly Dictionary<string, string> NoSuccessHere = new(StringComparer.Ordinal);

    private readonly OpenApiContract _contract = OpenApiContract.Load(RepositoryPaths.File("docs", "openapi", "v1.json"));
    private readonly DevelopmentCa _gatewayCa = new(Directory.CreateTempSubdirectory("edge-contract-gwca-").FullName, "Clinic Edge contract gateway CA");
    private readonly DevelopmentCa _brokerCa = new(Directory.CreateTempSubdirectory("edge-contract-cloudca-").FullName, "Clinic Edge contract cloud CA");
    private readonly List<string> _surprises = [];
    private ContractRecorder _recorder = null!;
    private S3rverServer _s3 = null!;
    private HttpClient _admin = null!;

    protected override string[] ApiSettings() =>
    [
        .. _s3.ReportSettings,
        $"--Api:GatewayCa:CertificatePath={_gatewayCa.CaPath}", $"--Api:GatewayCa:KeyPath={_gatewayCa.CaKeyPath}", $"--Api:GatewayCa:BrokerCaPath={_brokerCa.CaPath}",
    ];

    public override async Task InitializeAsync()
    {
        _s3 = await S3rverServer.StartNewAsync();
        await base.InitializeAsync();
        _recorder = new ContractRecorder(_contract);
        _admin = As("admin");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _s3.DisposeAsync();
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _gatewayCa.Dispose();
        _brokerCa.Dispose();
        Directory.Delete(_gatewayCa.Directory, recursive: true);
        Directory.Delete(_brokerCa.Directory, recursive: true);
    }

    [Fact]
    public async Task Every_operation_answers_valid_and_invalid_requests_as_the_document_says()
    {
        Func<Task>[] steps =
        [
            RegistryAsync, GatewayCertificatesAsync, RenewalAsync, TelemetryAndAnalyticsAsync, LiveAsync, AlertsAndWebhooksAsync, ConfigAndFirmwareAsync,
            ReportsAsync, IngestProblemsAsync, AccountsAsync, AuditAsync, RetirementsAsync, WithoutATokenAndWithTheWrongRoleAsync,
        ];
        foreach (var step in steps)
        {
            try
            {
                await step();
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                // A step that could not go on (an answer without the field it reads next) is one more surprise.
                _surprises.Add($"{step.Method.Name}: {e.GetType().Name}: {e.Message} {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains(".cs:", StringComparison.Ordinal))?.Trim()}");
            }
        }

        Assert.True(_surprises.Count == 0, $"calls that did not answer as the scenario expects:\n{string.Join('\n', _surprises)}");
        Assert.True(_recorder.Violations.Count == 0,
            $"{_recorder.Violations.Count} disagreements between the API and docs/openapi/v1.json:\n{string.Join('\n', _recorder.Violations.Distinct())}");
        var statuses = _recorder.Statuses;
        var missing = new List<string>();
        foreach (var operation in _contract.Operations)
        {
            var seen = statuses.GetValueOrDefault(operation.Key) ?? [];
            var succeeded = seen.Any(s => s is >= 200 and < 300 or 101);
            if (seen.Count == 0)
            {
                missing.Add($"{operation.Key}: never called");
            }
            else if (!seen.Any(s => s is >= 400 and < 500))
            {
                missing.Add($"{operation.Key}: never called with an invalid request (answered {string.Join(", ", seen)})");
            }
            else if (succeeded == NoSuccessHere.ContainsKey(operation.Key))
            {
                missing.Add(succeeded
                    ? $"{operation.Key}: succeeded; take it off {nameof(NoSuccessHere)}"
                    : $"{operation.Key}: never succeeded (answered {string.Join(", ", seen)})");
            }
        }
        Assert.True(missing.Count == 0, $"operations of docs/openapi/v1.json this test does not exercise fully:\n{string.Join('\n', missing)}");
    }

    [Fact]
    public void The_validator_refuses_what_the_document_does_not_declare()
    {
        var getClinic = _contract.Match("GET", "/v1/clinics/c1")!;
        Assert.Equal("GET /v1/clinics/{id}", getClinic.Key);
        Assert.Equal("GET /v1/webhooks/dead-letters", _contract.Match("GET", "/v1/webhooks/dead-letters")!.Key);
        Assert.Null(_contract.Match("GET", "/v1/nothing"));

        var clinic = """{"id":"c1","name":"North","created_at":"2026-01-15T12:00:00Z"}"""u8.ToArray();
        Assert.Empty(_contract.CheckResponse(getClinic, 200, "application/json", clinic));
        Assert.NotEmpty(_contract.CheckResponse(getClinic, 200, "application/json", """{"id":5,"name":"North","created_at":"2026-01-15T12:00:00Z"}"""u8.ToArray()));
        Assert.NotEmpty(_contract.CheckResponse(getClinic, 200, "application/json", """{"name":"North"}"""u8.ToArray()));
        Assert.NotEmpty(_contract.CheckResponse(getClinic, 418, "application/problem+json", """{"status":418}"""u8.ToArray()));
        Assert.NotEmpty(_contract.CheckResponse(getClinic, 200, "text/plain", clinic));
        Assert.NotEmpty(_contract.CheckResponse(getClinic, 200, "application/json", []));

        var registerDevice = _contract.Match("POST", "/v1/devices")!;
        Assert.Empty(_contract.CheckAcceptedRequest(registerDevice, [], "application/json", """{"serial":"OXY-1000-0001","clinic_id":"c1"}"""u8.ToArray()));
        Assert.NotEmpty(_contract.CheckAcceptedRequest(registerDevice, [], "application/json", """{"clinic_id":"c1"}"""u8.ToArray()));
        Assert.NotEmpty(_contract.CheckAcceptedRequest(registerDevice, [], "application/json", []));
        var listDevices = _contract.Match("GET", "/v1/devices")!;
        Assert.Empty(_contract.CheckAcceptedRequest(listDevices, [new("limit", "5"), new("clinic", "c1")], null, []));
        Assert.NotEmpty(_contract.CheckAcceptedRequest(listDevices, [new("limt", "5")], null, []));
        Assert.NotEmpty(_contract.CheckAcceptedRequest(listDevices, [new("limit", "five")], null, []));
    }

    private HttpClient Client(string? token)
    {
        var client = new HttpClient(_recorder, disposeHandler: false) { BaseAddress = Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    private HttpClient As(string role, params string[] clinics) => Client(Api.Token(role, clinics));

    // A call that answers another status than the scenario expects is noted and the scenario goes on, so one run
    // shows every surprise; the test fails on them before it looks at the document.
    private async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (expected != response.StatusCode)
        {
            _surprises.Add($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        }
        try
        {
            using var document = JsonDocument.Parse(body.Length == 0 ? "null" : body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string url, string body, string type = "application/json") =>
        client.PostAsync(url, new StringContent(body, Encoding.UTF8, type));

    private async Task RegistryAsync()
    {
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/clinics", new { id = Clinic, name = "North" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/clinics", new { id = Clinic, name = "North" }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/clinics", new { id = Clinic, name = "South" }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/clinics", new { id = "Not An Id", name = "X" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await PostRawAsync(_admin, "/v1/clinics", "{\"id\":"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/clinics", new { id = "c2", name = "South" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.GetAsync("/v1/clinics?limit=1"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/clinics?limit=0"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/clinics/{Clinic}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/clinics/nope"), HttpStatusCode.NotFound);

        // The optional fields left out: what the document says may be left out.
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways", new { id = Gateway, clinic_id = Clinic, name = "North gateway" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways", new { id = Gateway, clinic_id = Clinic, name = "North gateway" }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways", new { id = "gw-2", clinic_id = Clinic, name = "Second", certificate_fingerprint = new string('a', 64) }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways", new { id = "gw-2", clinic_id = Clinic, name = "Second", certificate_fingerprint = new string('b', 64) }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways", new { id = "gw 3", clinic_id = Clinic, name = "" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await As("technician", "c2").PostAsJsonAsync("/v1/gateways", new { id = "gw-4", clinic_id = Clinic, name = "Elsewhere" }), HttpStatusCode.Forbidden);
        await ExpectAsync(await _admin.GetAsync($"/v1/gateways?clinic={Clinic}&status=active&limit=10"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/gateways?status=sleeping"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/gateways/{Gateway}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/gateways/nope"), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.GetAsync($"/v1/gateways/{Gateway}/events?limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync($"/v1/gateways/{Gateway}/events?cursor=not-a-cursor"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync("/v1/gateways/nope/events"), HttpStatusCode.NotFound);

        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = Clinic, gateway_id = Gateway }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = Clinic, gateway_id = Gateway }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = Ecg, clinic_id = Clinic }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = "CPAP-2301-9912", clinic_id = Clinic, gateway_id = Gateway, owner = "patient-7", firmware = "v4.2.1", kind = "bipap" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = Oxygen, clinic_id = Clinic, gateway_id = "gw-2" }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices", new { serial = "TOASTER-1", clinic_id = Clinic }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/devices?clinic={Clinic}&kind=oxygen&status=active&gateway={Gateway}&presence=unknown&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/devices?presence=asleep"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/devices/OXY-0000-0000"), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices/CPAP-2301-9912/transfer", new { clinic_id = Clinic }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices/CPAP-2301-9912/transfer", new { clinic_id = Clinic, gateway_id = Gateway, owner = "patient-8" }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices/CPAP-2301-9912/transfer", new { gateway_id = Gateway }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices/OXY-0000-0000/transfer", new { clinic_id = Clinic }), HttpStatusCode.NotFound);
    }

    private async Task GatewayCertificatesAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=gw-cert", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways/gw-cert/certificate", new { csr, clinic_id = Clinic, name = "Certified" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways/gw-cert/certificate", new { csr }), HttpStatusCode.OK);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherCsr = new CertificateRequest("CN=gw-cert", other, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways/gw-cert/certificate", new { csr = otherCsr }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways/gw-new/certificate", new { csr = "not a csr", clinic_id = Clinic, name = "New" }), HttpStatusCode.BadRequest);
        // The renewal over plain HTTP, without a client certificate: refused before the CSR is read.
        await ExpectAsync(await Client(null).PostAsJsonAsync("/v1/gateways/gw-cert/certificate/renewal", new { csr }), HttpStatusCode.Unauthorized);
    }

    /// <summary>The renewal as an agent makes it: the API on HTTPS, the gateway's client certificate in the handshake.</summary>
    private async Task RenewalAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await ExpectAsync(await _admin.PostAsJsonAsync("/v1/gateways/gw-renew/certificate",
            new { csr = new CertificateRequest("CN=gw-renew", key, HashAlgorithmName.SHA256).CreateSigningRequestPem(), clinic_id = Clinic, name = "Renewing" }), HttpStatusCode.Created);
        await using var https = await InProcessApi.StartHttpsAsync(ConnectionString, _brokerCa.ServerCertificatePath, _brokerCa.ServerKeyPath,
            $"--Api:GatewayCa:CertificatePath={_gatewayCa.CaPath}", $"--Api:GatewayCa:KeyPath={_gatewayCa.CaKeyPath}", $"--Api:GatewayCa:BrokerCaPath={_brokerCa.CaPath}");
        using var certificate = X509Certificate2.CreateFromPem(issued.GetProperty("certificate_pem").GetString(), key.ExportPkcs8PrivateKeyPem());
        var transport = new SocketsHttpHandler();
        transport.SslOptions.ClientCertificates = new X509CertificateCollection { certificate };
        transport.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        var trusted = PemTls.LoadBundle(_brokerCa.CaPath);
        transport.SslOptions.RemoteCertificateValidationCallback = (_, c, _, errors) => PemTls.IsTrustedServer(c, errors, trusted);
        using var recorder = new ContractRecorder(_recorder, transport);
        using var gateway = new HttpClient(recorder) { BaseAddress = https.BaseAddress };

        using var next = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=gw-renew", next, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        await ExpectAsync(await gateway.PostAsJsonAsync("/v1/gateways/gw-renew/certificate/renewal", new { csr }), HttpStatusCode.Created);
        await ExpectAsync(await gateway.PostAsJsonAsync("/v1/gateways/gw-renew/certificate/renewal", new { csr = "not a csr" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await gateway.PostAsJsonAsync("/v1/gateways/gw-cert/certificate/renewal", new { csr }), HttpStatusCode.Forbidden);
    }

    private async Task TelemetryAndAnalyticsAsync()
    {
        var stores = Api.Services.GetRequiredService<StoreFactory>();
        await stores.Oxygen.WriteAsync(Readings.OxygenBatch(5, Start), CancellationToken.None);
        var window = $"from={Iso(Start.AddHours(-1))}&to={Iso(Start.AddHours(1))}";
        var clinician = As("clinician", Clinic);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/telemetry?{window}&limit=2"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/telemetry?{window}&limit=2&alarms=true&min.flow_rate_lpm=1&max.oxygen_purity_pct=99.5"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/telemetry?min.leak_rate_lpm=1"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/telemetry?from=yesterday"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/devices/OXY-0000-0000/telemetry"), HttpStatusCode.NotFound);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/summary?metric=flow_rate_lpm&{window}&bucket=hour"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/summary?metric=flow_rate_lpm&bucket=week"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/devices/OXY-0000-0000/summary?metric=flow_rate_lpm"), HttpStatusCode.NotFound);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/analytics?{window}"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/analytics?from=2026-01-15T12:00:00Z&to=2026-01-01T00:00:00Z"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/devices/OXY-0000-0000/analytics"), HttpStatusCode.NotFound);
        await ExpectAsync(await clinician.GetAsync($"/v1/clinics/{Clinic}/analytics?kind=oxygen&{window}&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/clinics/{Clinic}/analytics?kind=toaster"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/clinics/c2/analytics?kind=oxygen"), HttpStatusCode.NotFound);
    }

    private async Task LiveAsync()
    {
        var clinician = As("clinician", Clinic);
        // Not an upgrade request: refused naming why; a bad since; a device the caller cannot see.
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Oxygen}/live"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/devices/OXY-0000-0000/live"), HttpStatusCode.NotFound);

        // The upgrade itself through the same handler (ClientWebSocket over an invoker), so its 101 is checked too.
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {Api.Token("clinician", Clinic)}");
        socket.Options.HttpVersion = HttpVersion.Version11;
        using var invoker = new HttpMessageInvoker(_recorder, disposeHandler: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new UriBuilder(new Uri(Api.BaseAddress, $"/v1/devices/{Oxygen}/live")) { Scheme = "ws" }.Uri, invoker, timeout.Token);
        var buffer = new byte[8192];
        var first = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("subscribed", Encoding.UTF8.GetString(buffer, 0, first.Count), StringComparison.Ordinal);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        // The live alerts: not an upgrade, an unknown kind, a clinic outside the caller's; then the upgrade itself.
        await ExpectAsync(await clinician.GetAsync("/v1/alerts/live"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/alerts/live?kind=toaster"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/alerts/live?clinic=c2"), HttpStatusCode.Forbidden);
        using var alerts = new ClientWebSocket();
        alerts.Options.SetRequestHeader("Authorization", $"Bearer {Api.Token("clinician", Clinic)}");
        alerts.Options.HttpVersion = HttpVersion.Version11;
        await alerts.ConnectAsync(new UriBuilder(new Uri(Api.BaseAddress, $"/v1/alerts/live?clinic={Clinic}&severity=critical")) { Scheme = "ws" }.Uri, invoker, timeout.Token);
        var subscribed = await alerts.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("subscribed", Encoding.UTF8.GetString(buffer, 0, subscribed.Count), StringComparison.Ordinal);
        await alerts.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
    }

    private async Task AlertsAndWebhooksAsync()
    {
        var hook = await ExpectAsync(await _admin.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook" }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/north", clinic_id = Clinic, rules = new[] { "oxygen.purity_low" }, secret = new string('s', 40) }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/webhooks", new { url = "ftp://example.org/hook" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync("/v1/webhooks"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/webhooks?inactive=true"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/webhooks?inactive=maybe"), HttpStatusCode.BadRequest);

        await Api.Services.GetRequiredService<AlertRecorder>().RecordAsync([Readings.Oxygen(100, Start, purity: 80)], CancellationToken.None);
        var clinician = As("clinician", Clinic);
        await ExpectAsync(await clinician.GetAsync($"/v1/alerts?clinic={Clinic}&serial={Oxygen}&state=open&kind=oxygen&severity=critical&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync("/v1/alerts?state=closed"), HttpStatusCode.BadRequest);
        var all = await ExpectAsync(await clinician.GetAsync("/v1/alerts"), HttpStatusCode.OK);
        var alert = all.GetProperty("items")[0].GetProperty("id").GetGuid();
        await ExpectAsync(await clinician.GetAsync($"/v1/alerts/{alert}"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/alerts/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await ExpectAsync(await clinician.PostAsync($"/v1/alerts/{alert}/acknowledge", null), HttpStatusCode.OK);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{alert}/acknowledge", new { note = new string('x', 1001) }), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{Guid.NewGuid()}/acknowledge", new { note = "seen" }), HttpStatusCode.NotFound);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{alert}/resolve", new { note = "done" }), HttpStatusCode.OK);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{alert}/acknowledge", new { note = "late" }), HttpStatusCode.Conflict);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{alert}/resolve", new { note = new string('x', 1001) }), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.PostAsJsonAsync($"/v1/alerts/{Guid.NewGuid()}/resolve", new { }), HttpStatusCode.NotFound);

        // A delivery that used up its attempts, as the dispatcher leaves it.
        await using (var command = Probe.CreateCommand("UPDATE webhook_deliveries SET status = 'dead', attempts = 8, last_error = 'connection refused'"))
        {
            Assert.True(await command.ExecuteNonQueryAsync() > 0, "the alert queued no delivery to dead-letter");
        }
        var dead = await ExpectAsync(await _admin.GetAsync("/v1/webhooks/dead-letters?limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/webhooks/dead-letters?limit=abc"), HttpStatusCode.BadRequest);
        var deliveryId = dead.GetProperty("items")[0].GetProperty("id").GetInt64();
        await ExpectAsync(await _admin.PostAsync($"/v1/webhooks/dead-letters/{deliveryId}/requeue", null), HttpStatusCode.NoContent);
        await ExpectAsync(await _admin.PostAsync("/v1/webhooks/dead-letters/999999/requeue", null), HttpStatusCode.NotFound);

        await ExpectAsync(await _admin.DeleteAsync($"/v1/webhooks/{hook.GetProperty("subscription").GetProperty("id").GetGuid()}"), HttpStatusCode.NoContent);
        await ExpectAsync(await _admin.DeleteAsync($"/v1/webhooks/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
    }

    private async Task ConfigAndFirmwareAsync()
    {
        var technician = As("technician", Clinic);
        var config = new { flow_rate_lpm = 2.0, night_mode = false, maintenance_due_date = "2027-03-01" };
        await ExpectAsync(await technician.PutAsJsonAsync($"/v1/devices/{Oxygen}/config", config), HttpStatusCode.Accepted);
        await ExpectAsync(await technician.PutAsJsonAsync($"/v1/devices/{Oxygen}/config", new { flow_rate_lpm = 99.0, night_mode = false, maintenance_due_date = "2027-03-01" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await technician.PutAsJsonAsync("/v1/devices/OXY-0000-0000/config", config), HttpStatusCode.NotFound);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Oxygen}/config"), HttpStatusCode.OK);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Oxygen}/config?version=1"), HttpStatusCode.OK);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Oxygen}/config?version=one"), HttpStatusCode.BadRequest);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Ecg}/config"), HttpStatusCode.NotFound);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Oxygen}/config/versions?limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await technician.GetAsync($"/v1/devices/{Oxygen}/config/versions?limit=-1"), HttpStatusCode.BadRequest);
        await ExpectAsync(await technician.GetAsync("/v1/devices/OXY-0000-0000/config/versions"), HttpStatusCode.NotFound);

        var job = await ExpectAsync(await technician.PostAsJsonAsync("/v1/firmware/jobs",
            new { kind = "oxygen", version = "1.0.1", url = "https://fw.example/oxy.bin", sha256 = new string('a', 64), serials = new[] { Oxygen } }), HttpStatusCode.Created);
        await ExpectAsync(await technician.PostAsJsonAsync("/v1/firmware/jobs",
            new { kind = "toaster", version = "1", url = "http://fw.example/x.bin", sha256 = "abc", serials = Array.Empty<string>() }), HttpStatusCode.BadRequest);
        await ExpectAsync(await technician.GetAsync($"/v1/firmware/jobs/{job.GetProperty("id").GetGuid()}"), HttpStatusCode.OK);
        await ExpectAsync(await technician.GetAsync($"/v1/firmware/jobs/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
    }

    private async Task ReportsAsync()
    {
        var clinician = As("clinician", Clinic);
        await ExpectAsync(await UploadAsync(clinician, Ecg, "rpt_contract"), HttpStatusCode.Created);
        await ExpectAsync(await UploadAsync(clinician, Ecg, "rpt_contract"), HttpStatusCode.OK);
        await ExpectAsync(await UploadAsync(clinician, Ecg, "rpt_contract", pdf: "%PDF-1.7\nanother\n%%EOF\n"), HttpStatusCode.Conflict);
        await ExpectAsync(await UploadAsync(clinician, "ECG-0000-0000", "rpt_nobody"), HttpStatusCode.NotFound);
        await ExpectAsync(await PostRawAsync(clinician, $"/v1/devices/{Ecg}/reports", "{}"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Ecg}/reports?limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Ecg}/reports?limit=0"), HttpStatusCode.BadRequest);
        await ExpectAsync(await clinician.GetAsync("/v1/devices/ECG-0000-0000/reports"), HttpStatusCode.NotFound);
        var pdf = await clinician.GetAsync($"/v1/devices/{Ecg}/reports/rpt_contract/pdf");
        Assert.Equal(HttpStatusCode.OK, pdf.StatusCode);
        await ExpectAsync(await clinician.GetAsync($"/v1/devices/{Ecg}/reports/rpt_none/pdf"), HttpStatusCode.NotFound);
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string serial, string reportId, string? pdf = null)
    {
        var report = $$$$"""{"serial":"{{{{serial}}}}","report":{"report_id":"{{{{reportId}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";
        using var form = new MultipartFormDataContent { { new StringContent(report, Encoding.UTF8, "application/json"), "report" } };
        var file = new ByteArrayContent(Encoding.ASCII.GetBytes(pdf ?? "%PDF-1.7\n" + reportId + "\n%%EOF\n"));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "pdf", "report.pdf");
        return await client.PostAsync($"/v1/devices/{serial}/reports", form);
    }

    private async Task IngestProblemsAsync()
    {
        var ledger = new IngestLedger(Probe, 365, NullLogger<IngestLedger>.Instance);
        var reading = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { serial = Oxygen, timestamp = "2026-12-01T10:00:00Z", metrics = new { oxygen_purity_pct = 77, flow_rate_lpm = 2, temperature_c = 36.9 } }));
        var wire = BatchCodec.Encode(Gateway, 9, BatchLanes.Routine, [new BatchReading(4, Oxygen, Start, reading)], BatchCodec.DefaultMaxWireBytes).Bytes;
        var batch = await ledger.RecordDeadLetterAsync(new DeadLetter(Start, Gateway, UplinkTopics.Telemetry(Gateway), "storing failed", wire), CancellationToken.None);
        var junk = await ledger.RecordDeadLetterAsync(new DeadLetter(Start, Gateway, UplinkTopics.Telemetry(Gateway), "bad framing", new byte[] { 0xde, 0xad }), CancellationToken.None);
        var notTelemetry = await ledger.RecordDeadLetterAsync(new DeadLetter(Start, Gateway, $"edge/v1/{Gateway}/status", "unreadable status", new byte[] { 1 }), CancellationToken.None);
        await ExpectAsync(await _admin.GetAsync($"/v1/dead-letters?gateway={Gateway}&since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/dead-letters?gateway=not%20a%20gateway"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/dead-letters/{batch}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync($"/v1/dead-letters/{junk}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/dead-letters/999999"), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PostAsync($"/v1/dead-letters/{batch}/requeue", null), HttpStatusCode.Accepted);
        await ExpectAsync(await _admin.PostAsync($"/v1/dead-letters/{notTelemetry}/requeue", null), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsync("/v1/dead-letters/999999/requeue", null), HttpStatusCode.NotFound);

        var rejected = new RejectedReading(ReadingId.From(Gateway, 3, 1), Gateway, 3, 1, Oxygen, "refused", reading, Start);
        await ledger.RecordRejectedAsync([rejected, new RejectedReading(ReadingId.From(Gateway, 3, 2), Gateway, 3, 2, Oxygen, "not JSON", new byte[] { 0xff }, Start)], CancellationToken.None);
        var rejectedPage = await ExpectAsync(await _admin.GetAsync($"/v1/rejected-readings?gateway={Gateway}&serial={Oxygen}&reason=refused&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/rejected-readings?since=soon"), HttpStatusCode.BadRequest);
        foreach (var item in (await ExpectAsync(await _admin.GetAsync("/v1/rejected-readings"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray())
        {
            await ExpectAsync(await _admin.GetAsync($"/v1/rejected-readings/{item.GetProperty("id").GetGuid()}"), HttpStatusCode.OK);
        }
        await ExpectAsync(await _admin.GetAsync($"/v1/rejected-readings/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PostAsync($"/v1/rejected-readings/{rejectedPage.GetProperty("items")[0].GetProperty("id").GetGuid()}/requeue", null), HttpStatusCode.Accepted);
        await ExpectAsync(await _admin.PostAsync($"/v1/rejected-readings/{Guid.NewGuid()}/requeue", null), HttpStatusCode.NotFound);

        await new QuarantineStore(Probe).HoldAsync(
            [new QuarantinedReading(Guid.NewGuid(), Gateway, "OXY-9600-0001", QuarantineReasons.UnknownSerial, 5, 1, Start, Start.AddSeconds(1), Encoding.UTF8.GetString(reading))],
            CancellationToken.None);
        await ExpectAsync(await _admin.GetAsync($"/v1/quarantine?gateway={Gateway}&serial=OXY-9600-0001&reason={QuarantineReasons.UnknownSerial}&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/quarantine?reason=bored"), HttpStatusCode.BadRequest);
    }

    private async Task AccountsAsync()
    {
        var created = await ExpectAsync(await _admin.PostAsJsonAsync("/v1/users",
            new { username = "nora", display_name = "Nora", password = "correct horse battery", roles = new[] { "clinician" }, clinics = new[] { Clinic } }), HttpStatusCode.Created);
        var admin = await ExpectAsync(await _admin.PostAsJsonAsync("/v1/users",
            new { username = "ada", display_name = "Ada", password = "correct horse battery", roles = new[] { "admin" } }), HttpStatusCode.Created);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/users",
            new { username = "nora", display_name = "Nora", password = "correct horse battery", roles = new[] { "clinician" }, clinics = new[] { Clinic } }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/users", new { username = "x y", display_name = "", password = "short", roles = new[] { "king" } }), HttpStatusCode.BadRequest);
        var id = created.GetProperty("id").GetGuid();
        await ExpectAsync(await _admin.GetAsync($"/v1/users?clinic={Clinic}&role=clinician&disabled=false&username=nora&limit=5"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/users?disabled=perhaps"), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.GetAsync($"/v1/users/{id}"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync($"/v1/users/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PatchAsJsonAsync($"/v1/users/{id}", new { display_name = "Nora N." }), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PatchAsJsonAsync($"/v1/users/{id}", new { roles = new[] { "king" } }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.PatchAsJsonAsync($"/v1/users/{Guid.NewGuid()}", new { disabled = true }), HttpStatusCode.NotFound);
        var adaClient = Client(Api.Token("admin", [], subject: admin.GetProperty("id").GetGuid().ToString()));
        await ExpectAsync(await adaClient.PatchAsJsonAsync($"/v1/users/{admin.GetProperty("id").GetGuid()}", new { disabled = true }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync($"/v1/users/{id}/password", new { password = "another long password" }), HttpStatusCode.NoContent);
        await ExpectAsync(await _admin.PostAsJsonAsync($"/v1/users/{id}/password", new { password = "short" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.PostAsJsonAsync($"/v1/users/{Guid.NewGuid()}/password", new { password = "another long password" }), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PostAsync($"/v1/users/{id}/unlock", null), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsync($"/v1/users/{Guid.NewGuid()}/unlock", null), HttpStatusCode.NotFound);

        var anonymous = Client(null);
        var tokens = await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = "nora", password = "another long password" }), HttpStatusCode.OK);
        await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = "nora", password = "wrong password here" }), HttpStatusCode.Unauthorized);
        await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/token", new { username = "" }), HttpStatusCode.BadRequest);
        var refreshed = await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = tokens.GetProperty("refresh_token").GetString() }), HttpStatusCode.OK);
        await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = "not-a-refresh-token" }), HttpStatusCode.Unauthorized);
        await ExpectAsync(await anonymous.PostAsJsonAsync("/v1/auth/refresh", new { }), HttpStatusCode.BadRequest);

        var nora = Client(refreshed.GetProperty("access_token").GetString());
        await ExpectAsync(await nora.GetAsync("/v1/me"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/me"), HttpStatusCode.OK);
        await ExpectAsync(await nora.PostAsJsonAsync("/v1/me/password", new { current_password = "wrong password here", new_password = "a third long password" }), HttpStatusCode.BadRequest);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/me/password", new { current_password = "whatever it is", new_password = "a third long password" }), HttpStatusCode.NotFound);
        await ExpectAsync(await nora.PostAsJsonAsync("/v1/auth/sign-out", new { }), HttpStatusCode.BadRequest);
        await ExpectAsync(await nora.PostAsJsonAsync("/v1/auth/sign-out", new { refresh_token = refreshed.GetProperty("refresh_token").GetString() }), HttpStatusCode.NoContent);
        // Another caller's or an unknown refresh token is answered the same and changes nothing.
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/auth/sign-out", new { refresh_token = "not-a-refresh-token" }), HttpStatusCode.NoContent);
        await ExpectAsync(await nora.PostAsJsonAsync("/v1/me/password", new { current_password = "another long password", new_password = "a third long password" }), HttpStatusCode.NoContent);
    }

    private async Task AuditAsync()
    {
        // Entries with a null before (creations) and with both sides (a transfer), as admins and auditors read them.
        await ExpectAsync(await _admin.GetAsync("/v1/audit?limit=200"), HttpStatusCode.OK);
        await ExpectAsync(await As("auditor", Clinic).GetAsync("/v1/audit?target_type=device&target_id=CPAP-2301-9912&limit=50"), HttpStatusCode.OK);
        await ExpectAsync(await _admin.GetAsync("/v1/audit?actor=admin-user&cursor=abc"), HttpStatusCode.BadRequest);
    }

    private async Task RetirementsAsync()
    {
        await ExpectAsync(await _admin.PostAsync("/v1/devices/CPAP-2301-9912/retire", null), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsync("/v1/devices/OXY-0000-0000/retire", null), HttpStatusCode.NotFound);
        await ExpectAsync(await _admin.PutAsJsonAsync("/v1/devices/CPAP-2301-9912/config", new { target_pressure = 11 }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsJsonAsync("/v1/devices/CPAP-2301-9912/transfer", new { clinic_id = Clinic }), HttpStatusCode.Conflict);
        await ExpectAsync(await _admin.PostAsync("/v1/gateways/gw-2/retire", null), HttpStatusCode.OK);
        await ExpectAsync(await _admin.PostAsync("/v1/gateways/nope/retire", null), HttpStatusCode.NotFound);
    }

    /// <summary>Every operation of the document without a token, with a forged one, and as a gateway identity (a role most operations refuse).</summary>
    private async Task WithoutATokenAndWithTheWrongRoleAsync()
    {
        var anonymous = Client(null);
        var forged = Client(Api.Token("admin", Clinic)[..^4] + "AAAA");
        var gateway = Client(Api.Token("gateway", [], "gw-identity", gatewayId: Gateway));
        foreach (var operation in _contract.Operations)
        {
            var url = SampleUrl(operation);
            foreach (var client in new[] { anonymous, forged, gateway })
            {
                using var request = new HttpRequestMessage(new HttpMethod(operation.Method), url);
                if (operation.Definition["requestBody"] is not null)
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request);
                // An operation the document says needs the bearer token (it does not override the document's security).
                var needsToken = operation.Definition["security"] is not JsonArray { Count: 0 };
                if (client != gateway && needsToken && response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    _surprises.Add($"{operation.Key} without a valid token answered {(int)response.StatusCode}, not 401");
                }
                if (client != gateway && !needsToken && response.StatusCode == HttpStatusCode.Unauthorized && operation.Definition["responses"]?["401"] is null)
                {
                    _surprises.Add($"{operation.Key} needs no token by the document, yet answered 401");
                }
            }
        }
    }

    private static string SampleUrl(OpenApiContract.Operation operation)
    {
        var url = operation.Path;
        foreach (var parameter in operation.Definition["parameters"]?.AsArray() ?? [])
        {
            if ((string?)parameter!["in"] != "path")
            {
                continue;
            }
            var schema = parameter["schema"];
            var value = (string?)schema?["format"] == "uuid" ? Guid.Empty.ToString()
                : schema?["type"] is JsonNode type && type.ToJsonString().Contains("integer", StringComparison.Ordinal) ? "1"
                : "sample-1";
            url = url.Replace($"{{{parameter["name"]}}}", value, StringComparison.Ordinal);
        }
        return url;
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
