using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Agent.Journal;
using Edge.Cli.Tests.Infrastructure;
using Edge.Agent.Renewal;
using Edge.Contracts.Tls;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Cli.Tests.Cloud;

/// <summary>
/// Automatic renewal of the gateway's uplink certificate: a gateway registered with edgectl, the real agent, the real
/// mosquitto and the real API on HTTPS, with a gateway CA that issues three-minute certificates.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class CertificateRenewalTests(PostgresServer server) : CloudTest(server)
{
    const string GatewayId = "gw-renew-1";
    const string OtherGatewayId = "gw-renew-2";

    [Fact]
    public async Task The_agent_renews_with_a_new_key_before_a_third_is_left_reconnects_and_keeps_syncing()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var cloud = await ShortLivedCloud.StartAsync(ConnectionString, broker);
        var configDir = await RegisterAsync(cloud, GatewayId);
        using var original = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(configDir, "gateway.crt")));

        await using var agent = await InProcessAgent.StartAsync(
            $"--Agent:GatewayId={GatewayId}",
            "--Agent:Uplink:Host=localhost",
            $"--Agent:Uplink:Port={broker.Port}",
            $"--Agent:Uplink:CaPath={Path.Combine(configDir, "uplink-ca.crt")}",
            $"--Agent:Uplink:CertificatePath={Path.Combine(configDir, "gateway.crt")}",
            $"--Agent:Uplink:KeyPath={Path.Combine(configDir, "gateway.key")}",
            // Where to renew comes from what registration wrote into agent.json, as on a gateway.
            $"--Agent:CertificateRenewal:ApiUrl={RenewalSetting(configDir, "ApiUrl")}",
            $"--Agent:CertificateRenewal:ApiCaPath={RenewalSetting(configDir, "ApiCaPath")}",
            "--Agent:CertificateRenewal:RetryMinSeconds=1");
        var renewal = agent.Service<RenewalState>();

        // 3-minute certificates backdated 5 minutes: renewal is due when under 2 min 40 s is left, about 20 s after issue.
        await Eventually.TrueAsync(() => renewal.Renewals >= 1, TimeSpan.FromSeconds(120), $"a renewal (state {renewal.State}: {renewal.LastError})");

        var identity = agent.Service<UplinkIdentity>();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(identity.RenewedPath));
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(identity.RenewedPath)!), f => Path.GetFileName(f).StartsWith('.'));
        using var renewed = PemTls.LoadCertificateWithKey(identity.RenewedPath, null);
        Assert.Equal($"CN={GatewayId}", renewed.Subject);
        Assert.True(renewed.NotAfter > original.NotAfter);
        Assert.False(renewed.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(original.PublicKey.ExportSubjectPublicKeyInfo()), "the renewal kept the old key");
        using (var presented = identity.Load()!)
        {
            Assert.True(presented.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(renewed.PublicKey.ExportSubjectPublicKeyInfo()), "the uplink does not present the renewed certificate");
        }
        var gateway = await cloud.Http.As("admin").GetFromJsonAsync<JsonElement>($"/v1/gateways/{GatewayId}");
        Assert.True(gateway.GetProperty("certificate_fingerprint").GetString() is { } registered && registered != Fingerprint(original),
            "the registry still names the first certificate");

        // Keeps syncing: a reading journaled after the renewal reaches the cloud broker over the new connection.
        using var worker = new MqttClientFactory().CreateMqttClient();
        var telemetry = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.ApplicationMessageReceivedAsync += _ => { telemetry.TrySetResult(); return Task.CompletedTask; };
        await worker.ConnectAsync(broker.WorkerClient("renewal-test-worker").Build());
        await worker.SubscribeAsync($"edge/v1/{GatewayId}/telemetry", MqttQualityOfServiceLevel.AtLeastOnce);
        await agent.Journal.AppendAsync(new NewEntry("OXY-8844-5521", Edge.Contracts.Devices.DeviceKind.Oxygen, Lane.Routine, DateTimeOffset.UtcNow, "{\"spo2\":97}"u8.ToArray()));
        await telemetry.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(renewal.State, new[] { RenewalState.Waiting, RenewalState.Renewing });

        // The technician's view: expiry and renewal state on one status line.
        var status = await InProcessCli.RunAsync("agent", "status", "--socket", agent.SocketPath);
        Assert.True(status.ExitCode == ExitCodes.Ok, status.Error);
        Assert.Matches(@"(?m)^Certificate\s+expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in .+\), (renews from|renewing now)", status.Output);

        // A technician re-running the registration here afterwards is the same gateway (its first key), not a 409.
        await RegisterAsync(cloud, GatewayId);
    }

    [Fact]
    public async Task A_renewal_for_another_gateways_id_is_refused()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var cloud = await ShortLivedCloud.StartAsync(ConnectionString, broker);
        var mine = await RegisterAsync(cloud, GatewayId);
        await RegisterAsync(cloud, OtherGatewayId);

        // gw-renew-1's valid certificate asks for a certificate named gw-renew-2, at gw-renew-2's address and at its own.
        var other = await RenewAsync(cloud, mine, OtherGatewayId, OtherGatewayId);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        var renamed = await RenewAsync(cloud, mine, GatewayId, OtherGatewayId);
        Assert.Equal(HttpStatusCode.BadRequest, renamed.StatusCode);
        var problem = await renamed.Content.ReadAsStringAsync();
        Assert.Contains("\"csr\"", problem, StringComparison.Ordinal);
        Assert.Contains("it must be the gateway id 'gw-renew-1'", problem, StringComparison.Ordinal);
        var gateway = await cloud.Http.As("admin").GetFromJsonAsync<JsonElement>($"/v1/gateways/{OtherGatewayId}");
        using var registered = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(Home.File($"etc-{OtherGatewayId}"), "gateway.crt")));
        Assert.Equal(Fingerprint(registered), gateway.GetProperty("certificate_fingerprint").GetString());

        // And the rightful request from the same certificate succeeds, so the refusals above were about the name.
        Assert.Equal(HttpStatusCode.Created, (await RenewAsync(cloud, mine, GatewayId, GatewayId)).StatusCode);
    }

    [Fact]
    public async Task A_retired_gateway_cannot_renew_and_a_request_without_a_certificate_is_unauthenticated()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        await using var cloud = await ShortLivedCloud.StartAsync(ConnectionString, broker);
        var configDir = await RegisterAsync(cloud, GatewayId);
        var retired = await cloud.Http.As("admin").PostAsync($"/v1/gateways/{GatewayId}/retire", null);
        Assert.True(retired.IsSuccessStatusCode, await retired.Content.ReadAsStringAsync());

        var response = await RenewAsync(cloud, configDir, GatewayId, GatewayId);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("retired", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var anonymous = await RenewAsync(cloud, configDir: null, GatewayId, GatewayId);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    async Task<string> RegisterAsync(ShortLivedCloud cloud, string gatewayId)
    {
        var configDir = Home.File($"etc-{gatewayId}");
        var edgectl = Edgectl.With("EDGE_API_URL", cloud.Http.BaseAddress.ToString()).With("EDGE_TOKEN", cloud.Http.Token("technician", "north"));
        var result = await edgectl.RunAsync("gateway", "register", "--clinic", "north", "--name", gatewayId, "--id", gatewayId,
            "--endpoint", $"localhost:{cloud.BrokerPort}", "--config-dir", configDir, "--json",
            "--renewal-api", cloud.Https.BaseAddress.ToString(), "--renewal-api-ca", cloud.ServerCaPath);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        return configDir;
    }

    static string RenewalSetting(string configDir, string name) =>
        (string?)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(configDir, "agent.json")))!["Agent"]!["CertificateRenewal"]![name]
            ?? throw new InvalidOperationException($"agent.json has no Agent:CertificateRenewal:{name}");

    // A renewal request as the agent makes it, presenting configDir's certificate (none when null), with a CSR of a new key for csrName.
    static async Task<HttpResponseMessage> RenewAsync(ShortLivedCloud cloud, string? configDir, string pathId, string csrName)
    {
        using var handler = new SocketsHttpHandler();
        if (configDir is not null)
        {
            var certificate = PemTls.LoadCertificateWithKey(Path.Combine(configDir, "gateway.crt"), Path.Combine(configDir, "gateway.key"));
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { certificate };
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }
        var trusted = PemTls.LoadBundle(cloud.ServerCaPath);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, c, _, errors) => PemTls.IsTrustedServer(c, errors, trusted);
        using var http = new HttpClient(handler) { BaseAddress = cloud.Https.BaseAddress };
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={csrName}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        return await http.PostAsJsonAsync($"v1/gateways/{pathId}/certificate/renewal", new { csr });
    }

    static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    /// <summary>
    /// The API twice on one database, both signing with the broker's gateway CA for three minutes: on HTTP for edgectl
    /// (the technician's side) and on HTTPS for the agents' renewals.
    /// </summary>
    sealed class ShortLivedCloud : IAsyncDisposable
    {
        public required InProcessApi Http { get; init; }

        public required InProcessApi Https { get; init; }

        public required int BrokerPort { get; init; }

        public required string ServerCaPath { get; init; }

        public static async Task<ShortLivedCloud> StartAsync(string connectionString, MosquittoServer broker)
        {
            string[] ca =
            [
                $"--Api:GatewayCa:CertificatePath={broker.GatewayCa.CaPath}", $"--Api:GatewayCa:KeyPath={broker.GatewayCa.CaKeyPath}",
                $"--Api:GatewayCa:BrokerCaPath={broker.Ca.CaPath}", "--Api:GatewayCa:ValidityMinutes=3",
            ];
            var http = await InProcessApi.StartAsync(connectionString, ca);
            var https = await InProcessApi.StartHttpsAsync(connectionString, broker.Ca.ServerCertificatePath, broker.Ca.ServerKeyPath, ca);
            return new ShortLivedCloud { Http = http, Https = https, BrokerPort = broker.Port, ServerCaPath = broker.Ca.CaPath };
        }

        public async ValueTask DisposeAsync()
        {
            await Https.DisposeAsync();
            await Http.DisposeAsync();
        }
    }
}
