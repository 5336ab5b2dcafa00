using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Edge.Api.Tests.Auth;

/// <summary>
/// Every endpoint × every role: allowed roles get past authorization, other roles get 403, no or bad tokens get 401.
/// The expected table is written here, apart from the code's policies, so a wrong policy fails this test; and the table
/// must list every endpoint the API maps, so a new endpoint cannot ship without a decision.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class AuthorizationMatrixTests(PostgresServer server) : ApiTest(server)
{
    private const string Admin_ = "admin";
    private const string Tech = "technician";
    private const string Clin = "clinician";
    private const string Aud = "auditor";
    private const string Gw = "gateway";

    private static readonly string[] Everyone = [Admin_, Tech, Clin, Aud, Gw];

    private static readonly string[] FhirScope = ["system/*.read"];

    /// <summary>Method, route pattern, a concrete URL, a body, and the roles allowed. Order matters: retirements come last.</summary>
    private static readonly (string Method, string Route, string Url, object? Body, string[] Allowed)[] Cases =
    [
        ("GET", "/v1/clinics", "/v1/clinics", null, Everyone),
        ("GET", "/v1/clinics/{id}", "/v1/clinics/c1", null, Everyone),
        ("POST", "/v1/clinics", "/v1/clinics", new { id = "c2", name = "Second" }, [Admin_]),
        ("GET", "/v1/gateways", "/v1/gateways", null, Everyone),
        ("GET", "/v1/gateways/{id}", "/v1/gateways/gw-1", null, Everyone),
        ("GET", "/v1/gateways/{id}/events", "/v1/gateways/gw-1/events", null, Everyone),
        ("POST", "/v1/gateways", "/v1/gateways", new { id = "gw-2", clinic_id = "c1", name = "Second" }, [Admin_, Tech]),
        ("POST", "/v1/gateways/{id}/certificate", "/v1/gateways/gw-3/certificate", new { csr = "not a csr", clinic_id = "c1", name = "Third" }, [Admin_, Tech]),
        ("GET", "/v1/devices", "/v1/devices", null, Everyone),
        ("GET", "/v1/devices/{serial}", "/v1/devices/OXY-1000-0001", null, Everyone),
        ("POST", "/v1/devices", "/v1/devices", new { serial = "ECG-1000-0002", clinic_id = "c1" }, [Admin_, Tech]),
        ("POST", "/v1/devices/{serial}/transfer", "/v1/devices/OXY-1000-0001/transfer", new { clinic_id = "c1", gateway_id = "gw-1" }, [Admin_, Tech]),
        ("GET", "/v1/devices/{serial}/telemetry", "/v1/devices/OXY-1000-0001/telemetry", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/devices/{serial}/summary", "/v1/devices/OXY-1000-0001/summary?metric=flow_rate_lpm", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/devices/{serial}/analytics", "/v1/devices/OXY-1000-0001/analytics", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/clinics/{id}/analytics", "/v1/clinics/c1/analytics?kind=oxygen", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/devices/{serial}/live", "/v1/devices/OXY-1000-0001/live", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/alerts/live", "/v1/alerts/live", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/alerts", "/v1/alerts", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/alerts/{id:guid}", $"/v1/alerts/{Guid.Empty}", null, [Admin_, Tech, Clin]),
        ("POST", "/v1/alerts/{id:guid}/acknowledge", $"/v1/alerts/{Guid.Empty}/acknowledge", new { note = "seen" }, [Admin_, Tech, Clin]),
        ("POST", "/v1/alerts/{id:guid}/resolve", $"/v1/alerts/{Guid.Empty}/resolve", new { note = "done" }, [Admin_, Tech, Clin]),
        ("POST", "/v1/webhooks", "/v1/webhooks", new { url = "http://127.0.0.1:9/hook" }, [Admin_]),
        ("GET", "/v1/webhooks", "/v1/webhooks", null, [Admin_]),
        ("DELETE", "/v1/webhooks/{id:guid}", $"/v1/webhooks/{Guid.Empty}", null, [Admin_]),
        ("GET", "/v1/webhooks/dead-letters", "/v1/webhooks/dead-letters", null, [Admin_]),
        ("POST", "/v1/webhooks/dead-letters/{id:long}/requeue", "/v1/webhooks/dead-letters/1/requeue", null, [Admin_]),
        ("GET", "/v1/audit", "/v1/audit", null, [Admin_, Aud]),
        ("GET", "/v1/quarantine", "/v1/quarantine", null, [Admin_]),
        ("GET", "/v1/dead-letters", "/v1/dead-letters", null, [Admin_]),
        ("GET", "/v1/dead-letters/{id:long}", "/v1/dead-letters/1", null, [Admin_]),
        ("POST", "/v1/dead-letters/{id:long}/requeue", "/v1/dead-letters/1/requeue", null, [Admin_]),
        ("GET", "/v1/rejected-readings", "/v1/rejected-readings", null, [Admin_]),
        ("GET", "/v1/rejected-readings/{id:guid}", $"/v1/rejected-readings/{Guid.Empty}", null, [Admin_]),
        ("POST", "/v1/rejected-readings/{id:guid}/requeue", $"/v1/rejected-readings/{Guid.Empty}/requeue", null, [Admin_]),
        ("PUT", "/v1/devices/{serial}/config", "/v1/devices/OXY-1000-0001/config",
            new { flow_rate_lpm = 2.0, night_mode = false, maintenance_due_date = "2027-03-01" }, [Admin_, Tech, Clin]),
        ("GET", "/v1/devices/{serial}/config", "/v1/devices/OXY-1000-0001/config", null, [Admin_, Tech, Clin, Aud]),
        ("GET", "/v1/devices/{serial}/config/versions", "/v1/devices/OXY-1000-0001/config/versions", null, [Admin_, Tech, Clin, Aud]),
        ("POST", "/v1/firmware/jobs", "/v1/firmware/jobs",
            new { kind = "oxygen", version = "1.0.1", url = "https://fw.example/oxy.bin", sha256 = new string('a', 64), serials = new[] { "OXY-1000-0001" } }, [Admin_, Tech]),
        ("GET", "/v1/firmware/jobs/{id:guid}", $"/v1/firmware/jobs/{Guid.Empty}", null, [Admin_, Tech, Aud]),
        ("GET", "/v1/devices/{serial}/reports", "/v1/devices/OXY-1000-0001/reports", null, [Admin_, Tech, Clin]),
        ("POST", "/v1/devices/{serial}/reports", "/v1/devices/OXY-1000-0001/reports", new { }, [Admin_, Tech, Clin]),
        ("GET", "/v1/devices/{serial}/reports/{reportId}/pdf", "/v1/devices/OXY-1000-0001/reports/rpt_matrix/pdf", null, [Admin_, Tech, Clin]),
        ("GET", "/v1/me", "/v1/me", null, Everyone),
        // None of these tokens is a local account's: the change is refused (404) after authorization, for every role.
        ("POST", "/v1/me/password", "/v1/me/password", new { current_password = "matrix password 1", new_password = "matrix password 2" }, Everyone),
        ("POST", "/v1/auth/sign-out", "/v1/auth/sign-out", new { refresh_token = "not-a-refresh-token" }, Everyone),
        ("GET", "/v1/users", "/v1/users", null, [Admin_]),
        ("POST", "/v1/users", "/v1/users", new { username = "matrix.user", display_name = "Matrix", password = "matrix password 1", roles = new[] { "clinician" }, clinics = new[] { "c1" } }, [Admin_]),
        ("GET", "/v1/users/{id:guid}", $"/v1/users/{Guid.Empty}", null, [Admin_]),
        ("PATCH", "/v1/users/{id:guid}", $"/v1/users/{Guid.Empty}", new { display_name = "Renamed" }, [Admin_]),
        ("POST", "/v1/users/{id:guid}/password", $"/v1/users/{Guid.Empty}/password", new { password = "matrix password 3" }, [Admin_]),
        ("POST", "/v1/users/{id:guid}/unlock", $"/v1/users/{Guid.Empty}/unlock", null, [Admin_]),
        ("GET", "/fhir/r4/Device", "/fhir/r4/Device", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/Device/{id}", "/fhir/r4/Device/OXY-1000-0001", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/Observation", "/fhir/r4/Observation?device=Device/OXY-1000-0001", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/Observation/{id}", $"/fhir/r4/Observation/OXY-1000-0001.0.{Guid.Empty:N}", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/DiagnosticReport", "/fhir/r4/DiagnosticReport?device=Device/OXY-1000-0001", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/DiagnosticReport/{id}", "/fhir/r4/DiagnosticReport/rpt.matrix", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/Group/{clinic}/$export", "/fhir/r4/Group/c1/$export", null, [Admin_, Tech, Clin]),
        ("GET", "/fhir/r4/$export-status/{id:guid}", $"/fhir/r4/$export-status/{Guid.Empty}", null, [Admin_, Tech, Clin]),
        ("DELETE", "/fhir/r4/$export-status/{id:guid}", $"/fhir/r4/$export-status/{Guid.Empty}", null, [Admin_, Tech, Clin]),
        ("POST", "/v1/devices/{serial}/retire", "/v1/devices/ECG-1000-0002/retire", null, [Admin_, Tech]),
        ("POST", "/v1/gateways/{id}/retire", "/v1/gateways/gw-2/retire", null, [Admin_, Tech]),
    ];

    /// <summary>Endpoints open without a token, and why: probes and the public contracts (OpenAPI, the FHIR CapabilityStatement).</summary>
    // The renewal takes no token: the gateway's TLS client certificate authenticates it (CertificateRenewalTests in Edge.Cli.Tests).
    // Signing in and refreshing take no token either: a password or a refresh token is the credential (AccountAttackTests),
    // and the per-address rate limit counts them.
    private static readonly string[] Anonymous =
        ["GET /healthz", "GET /openapi/{documentName}.json", "POST /v1/gateways/{id}/certificate/renewal", "POST /v1/auth/token", "POST /v1/auth/refresh",
         "GET /fhir/r4/metadata"];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("c1");
        await RegisterGatewayAsync("gw-1", "c1");
        await RegisterDeviceAsync("OXY-1000-0001", "c1", "gw-1");
    }

    [Fact]
    public void Every_mapped_endpoint_has_a_policy_and_is_in_the_table()
    {
        var mapped = new Dictionary<string, Endpoint>();
        foreach (var endpoint in Api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
            {
                mapped[$"{method} {endpoint.RoutePattern.RawText}"] = endpoint;
            }
        }

        var expected = Cases.Select(c => $"{c.Method} {c.Route}").Concat(Anonymous).Order().ToList();
        Assert.Equal(expected, mapped.Keys.Order().ToList());

        foreach (var (name, endpoint) in mapped)
        {
            if (Anonymous.Contains(name))
            {
                Assert.NotNull(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
                continue;
            }
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).Where(p => p is not null).ToList();
            Assert.True(policies.Count == 1, $"{name} names {policies.Count} policies; every endpoint names exactly one");
        }
    }

    [Fact]
    public async Task Each_role_is_allowed_or_refused_as_the_table_says()
    {
        var failures = new List<string>();
        foreach (var (method, route, url, body, allowed) in Cases)
        {
            foreach (var role in Everyone)
            {
                // Every token carries the FHIR read scope, so the FHIR rows test the roles (FhirReadTests test the scopes).
                var client = role == Gw
                    ? Api.Client(Api.Token(Gw, [], "gw-1-identity", gatewayId: "gw-1", scopes: FhirScope))
                    : Api.Client(Api.Token(role, ["c1"], $"{role}-user", scopes: FhirScope));
                var status = await SendAsync(client, method, url, body);
                var ok = allowed.Contains(role)
                    ? status is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden
                    : status == HttpStatusCode.Forbidden;
                if (!ok)
                {
                    failures.Add($"{method} {route} as {role}: {(int)status} (expected {(allowed.Contains(role) ? "allowed" : "403")})");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_caller_of_another_clinic_gets_404_or_a_filtered_answer_everywhere()
    {
        // Clinic c1's objects are the ones every case names; the callers below belong to clinic other only.
        await CreateClinicAsync("other");
        await RegisterGatewayAsync("gw-other", "other");
        await RegisterDeviceAsync("ECG-2000-0001", "other", "gw-other");
        string[] c1Ids = ["\"c1\"", "gw-1", "OXY-1000-0001", "ECG-1000-0002"];

        var failures = new List<string>();
        foreach (var (method, route, url, body, allowed) in Cases)
        {
            foreach (var role in allowed.Where(r => r != Admin_))
            {
                var client = role == Gw
                    ? Api.Client(Api.Token(Gw, [], "gw-other-identity", gatewayId: "gw-other", scopes: FhirScope))
                    : Api.Client(Api.Token(role, ["other"], $"{role}-user", scopes: FhirScope));
                var (status, text) = await SendForBodyAsync(client, method, url, body);
                // Ids the caller sent itself may be echoed ("serials: X: no such device"); any other id of c1 is a leak.
                var sent = url + (body is null ? "" : JsonSerializer.Serialize(body));
                var leaked = c1Ids.FirstOrDefault(id => text.Contains(id, StringComparison.Ordinal) && !sent.Contains(id.Trim('"'), StringComparison.Ordinal));
                var isObject = route.Contains('{', StringComparison.Ordinal);
                var fine = status switch
                {
                    HttpStatusCode.NotFound => true,
                    HttpStatusCode.Forbidden => method != "GET", // a write naming c1 (clinic_id) is refused; a read answers 404
                    HttpStatusCode.InternalServerError or HttpStatusCode.Unauthorized => false,
                    _ when (int)status is >= 200 and < 300 => !isObject && leaked is null && !text.Contains("\"c1\"", StringComparison.Ordinal),
                    // A refusal for another reason (a bad body, a feature not configured) is fine if it names nothing of c1.
                    _ => leaked is null,
                };
                if (!fine)
                {
                    failures.Add($"{method} {route} as {role} of another clinic: {(int)status}{(leaked is null ? "" : " naming " + leaked)}: {text}");
                }
            }
        }

        // Nothing of c1 changed.
        var device = await ReadAsync(await Admin.GetAsync("/v1/devices/OXY-1000-0001"), HttpStatusCode.OK);
        Assert.Equal(("c1", "active"), (device.GetProperty("clinic_id").GetString(), device.GetProperty("status").GetString()));
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task No_token_an_expired_one_or_a_forged_one_is_401_everywhere()
    {
        var forgedKey = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        var forged = new LocalTokenIssuer(new AuthOptions(), forgedKey, TimeProvider.System).Issue("mallory", [Admin_], [], TimeSpan.FromHours(1));
        var expired = Api.Token(Admin_, [], "admin-user", lifetime: TimeSpan.FromMinutes(-5));
        var clients = new Dictionary<string, HttpClient>
        {
            ["no token"] = Api.Client(null),
            ["forged"] = Api.Client(forged),
            ["expired"] = Api.Client(expired),
            ["garbage"] = Api.Client("not-a-jwt"),
        };

        var failures = new List<string>();
        foreach (var (method, route, url, body, _) in Cases)
        {
            foreach (var (name, client) in clients)
            {
                var status = await SendAsync(client, method, url, body);
                if (status != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{method} {route} with {name}: {(int)status}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_refusal_is_a_problem_document()
    {
        var response = await Api.As(Clin, "c1").GetAsync("/v1/audit");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var anonymous = await Api.Client(null).GetAsync("/v1/devices");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendForBodyAsync(HttpClient client, string method, string url, object? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        else if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, string method, string url, object? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        else if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
