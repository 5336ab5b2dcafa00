using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.GatewayCa;

/// <summary><c>POST /v1/gateways/{id}/certificate</c> with a real CA on disk: signing, registration, idempotency, refusals.</summary>
[Collection(PostgresServer.Collection)]
public sealed class GatewayCertificateTests(PostgresServer server) : ApiTest(server), IDisposable
{
    private readonly DevelopmentCa _ca = new(Directory.CreateTempSubdirectory("edge-gwca-").FullName, "Clinic Edge test gateway CA");
    private readonly DevelopmentCa _brokerCa = new(Directory.CreateTempSubdirectory("edge-cloudca-").FullName, "Clinic Edge test cloud CA");

    protected override string[] ApiSettings() =>
        [.. CaSettings(_ca), "--Api:GatewayCa:ValidityDays=30"];

    private string[] CaSettings(DevelopmentCa ca) =>
        [$"--Api:GatewayCa:CertificatePath={ca.CaPath}", $"--Api:GatewayCa:KeyPath={ca.CaKeyPath}", $"--Api:GatewayCa:BrokerCaPath={_brokerCa.CaPath}"];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
    }

    [Fact]
    public async Task A_csr_gets_a_client_certificate_from_the_ca_and_registers_the_gateway_with_its_fingerprint()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var response = await Admin.PostAsJsonAsync("/v1/gateways/gw-north-1/certificate", new { csr = Csr(key, "gw-north-1"), clinic_id = "north", name = "North gateway" });

        var body = await ReadAsync(response, HttpStatusCode.Created);
        using var certificate = X509Certificate2.CreateFromPem(body.GetProperty("certificate_pem").GetString()!);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(_ca.CaPath));
        Assert.Equal("CN=gw-north-1", certificate.Subject);
        Assert.Equal(ca.Subject, certificate.Issuer);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.InRange(certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30));
        Assert.Contains(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(certificate), "the certificate chains to the deployment CA");
        }
        // The gateway gets the broker's CA to check the broker with, not the gateway CA.
        Assert.Equal(File.ReadAllText(_brokerCa.CaPath).Trim(), body.GetProperty("ca_certificate_pem").GetString()!.Trim());

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        Assert.Equal(fingerprint, body.GetProperty("fingerprint").GetString());
        var gateway = await ReadAsync(await Admin.GetAsync("/v1/gateways/gw-north-1"), HttpStatusCode.OK);
        Assert.Equal(fingerprint, gateway.GetProperty("certificate_fingerprint").GetString());
        Assert.Equal("north", gateway.GetProperty("clinic_id").GetString());
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM audit_log WHERE action = 'gateway.certificate' AND target_id = 'gw-north-1'"));
    }

    [Fact]
    public async Task The_same_key_again_gets_the_same_certificate_and_changes_nothing()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var first = await ReadAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-a/certificate", new { csr = Csr(key, "gw-a"), clinic_id = "north", name = "A" }), HttpStatusCode.Created);

        // A renewal may leave out clinic and name; a CSR without a subject is fine too.
        var again = await ReadAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-a/certificate", new { csr = Csr(key, null) }), HttpStatusCode.OK);

        Assert.Equal(first.GetProperty("certificate_pem").GetString(), again.GetProperty("certificate_pem").GetString());
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM gateway_certificates WHERE gateway_id = 'gw-a'"));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM audit_log WHERE target_id = 'gw-a'"));
    }

    [Fact]
    public async Task Another_key_for_a_certified_gateway_is_a_conflict()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await ReadAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-b/certificate", new { csr = Csr(key, "gw-b"), clinic_id = "north", name = "B" }), HttpStatusCode.Created);

        var problem = await ReadAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-b/certificate", new { csr = Csr(other, "gw-b") }), HttpStatusCode.Conflict);

        Assert.Contains("for another key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_requests_name_the_parameter_and_register_nothing()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(1024);
        var weak = new CertificateRequest("CN=gw-c", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = "hello", clinic_id = "north", name = "C" }), "csr");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = Csr(key, "gw-other"), clinic_id = "north", name = "C" }), "csr");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = weak, clinic_id = "north", name = "C" }), "csr");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = Csr(key, "gw-c"), name = "C" }), "clinic_id");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = Csr(key, "gw-c"), clinic_id = "nowhere", name = "C" }), "clinic_id");
        var forbidden = await Api.As("technician", "south").PostAsJsonAsync("/v1/gateways/gw-c/certificate", new { csr = Csr(key, "gw-c"), clinic_id = "north", name = "C" });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/v1/gateways/gw-c")).StatusCode);
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateway_certificates"));
    }

    [Theory]
    [InlineData("ingest-worker")]
    [InlineData("ingest-local-0")]
    [InlineData("Ingest")]
    [InlineData("provision-7")]
    [InlineData("mosquitto")]
    public async Task A_technician_cannot_get_a_certificate_or_a_registration_for_an_infrastructure_id(string id)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var technician = Api.As("technician", "north");

        var signing = await technician.PostAsJsonAsync($"/v1/gateways/{id}/certificate", new { csr = Csr(key, id), clinic_id = "north", name = "Worker" });
        var registering = await technician.PostAsJsonAsync("/v1/gateways", new { id, clinic_id = "north", name = "Worker" });

        await AssertBadParameterAsync(signing, "id");
        await AssertBadParameterAsync(registering, "id");
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateway_certificates"));
        Assert.Equal(0L, await CountAsync("SELECT count(*) FROM gateways"));
    }

    [Fact]
    public async Task A_ca_made_a_minute_ago_signs_certificates_that_start_no_earlier_than_itself()
    {
        using var young = new DevelopmentCa(Directory.CreateTempSubdirectory("edge-gwca-young-").FullName, notBefore: DateTimeOffset.UtcNow.AddMinutes(-1));
        await using var api = await InProcessApi.StartAsync(ConnectionString, CaSettings(young));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var response = await api.As("admin").PostAsJsonAsync("/v1/gateways/gw-young/certificate", new { csr = Csr(key, "gw-young"), clinic_id = "north", name = "Young" });

        var body = await ReadAsync(response, HttpStatusCode.Created);
        using var certificate = X509Certificate2.CreateFromPem(body.GetProperty("certificate_pem").GetString()!);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(young.CaPath));
        Assert.True(certificate.NotBefore >= ca.NotBefore, $"{certificate.NotBefore:O} is before the CA's {ca.NotBefore:O}");
        Directory.Delete(young.Directory, recursive: true);
    }

    [Fact]
    public async Task Without_a_ca_the_endpoint_says_the_deployment_signs_no_certificates()
    {
        await using var plain = await InProcessApi.StartAsync(ConnectionString);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var response = await plain.As("admin").PostAsJsonAsync("/v1/gateways/gw-d/certificate", new { csr = Csr(key, "gw-d"), clinic_id = "north", name = "D" });

        var problem = await ReadAsync(response, HttpStatusCode.NotImplemented);
        Assert.Contains("Api:GatewayCa", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ca_key_that_others_can_read_stops_the_api_at_start()
    {
        File.SetUnixFileMode(_ca.CaKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessApi.StartAsync(ConnectionString, CaSettings(_ca)));

        Assert.Contains($"Api:GatewayCa:KeyPath: {_ca.CaKeyPath} is readable by group or others", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_ca_without_a_separate_broker_ca_stops_the_api_at_start()
    {
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => InProcessApi.StartAsync(ConnectionString,
            $"--Api:GatewayCa:CertificatePath={_ca.CaPath}", $"--Api:GatewayCa:KeyPath={_ca.CaKeyPath}"));
        var same = await Assert.ThrowsAnyAsync<Exception>(() => InProcessApi.StartAsync(ConnectionString,
            $"--Api:GatewayCa:CertificatePath={_ca.CaPath}", $"--Api:GatewayCa:KeyPath={_ca.CaKeyPath}", $"--Api:GatewayCa:BrokerCaPath={_ca.CaPath}"));

        Assert.Contains("Api:GatewayCa:BrokerCaPath is required", missing.Message, StringComparison.Ordinal);
        Assert.Contains("is the gateway CA itself", same.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _brokerCa.Dispose();
        Directory.Delete(_ca.Directory, recursive: true);
        Directory.Delete(_brokerCa.Directory, recursive: true);
    }

    private static string Csr(ECDsa key, string? commonName) =>
        new CertificateRequest(commonName is null ? "" : $"CN={commonName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

    private async Task<long> CountAsync(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
