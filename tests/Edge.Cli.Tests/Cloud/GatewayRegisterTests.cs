using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Contracts.Tls;
using Edge.Testing.Api;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Cli.Tests.Cloud;

/// <summary>
/// <c>edgectl gateway register</c> with the API's CA: the certificate the real mosquitto accepts, the agent's config,
/// re-runs that change nothing, and failures that leave nothing behind.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class GatewayRegisterTests(PostgresServer server) : CloudTest(server)
{
    const string GatewayId = "gw-north-1";

    string ConfigDir => Home.File("etc-edge-agent");

    [Fact]
    public async Task Registration_writes_a_key_that_stays_here_and_a_certificate_the_cloud_broker_accepts()
    {
        await using var broker = await MosquittoServer.StartNewAsync();
        // The API signs with the gateway CA the broker's gateway listener trusts, as an on-prem deployment does, and
        // hands out the cloud CA that the broker's own certificate chains to.
        await using var api = await InProcessApi.StartAsync(ConnectionString,
            $"--Api:GatewayCa:CertificatePath={broker.GatewayCa.CaPath}", $"--Api:GatewayCa:KeyPath={broker.GatewayCa.CaKeyPath}",
            $"--Api:GatewayCa:BrokerCaPath={broker.Ca.CaPath}");
        Directory.CreateDirectory(ConfigDir);
        await File.WriteAllTextAsync(Path.Combine(ConfigDir, "agent.json"), """{ "Agent": { "Broker": { "Port": 1884 } } }""");
        var edgectl = Edgectl.With("EDGE_API_URL", api.BaseAddress.ToString()).With("EDGE_TOKEN", api.Token("technician", "north"));

        var result = await edgectl.RunAsync("gateway", "register", "--clinic", "north", "--name", "North front desk", "--id", GatewayId,
            "--endpoint", $"127.0.0.1:{broker.Port}", "--config-dir", ConfigDir, "--json");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        var registration = JsonDocument.Parse(result.Output).RootElement;
        var keyPath = Path.Combine(ConfigDir, "gateway.key");
        Assert.Equal(keyPath, registration.GetProperty("key_path").GetString());
        Assert.True(registration.GetProperty("key_created").GetBoolean());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "gateway.crt")));
        Assert.Equal($"CN={GatewayId}", certificate.Subject);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        var gateway = await api.As("admin").GetFromJsonAsync<JsonElement>($"/v1/gateways/{GatewayId}");
        Assert.Equal(fingerprint, gateway.GetProperty("certificate_fingerprint").GetString());

        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "agent.json")))!;
        Assert.Equal(GatewayId, (string?)config["Agent"]!["GatewayId"]);
        Assert.Equal(1884, (int)config["Agent"]!["Broker"]!["Port"]!); // the operator's settings stay
        var uplink = config["Agent"]!["Uplink"]!;
        Assert.Equal("127.0.0.1", (string?)uplink["Host"]);
        Assert.Equal(broker.Port, (int)uplink["Port"]!);
        Assert.Equal(keyPath, (string?)uplink["KeyPath"]);

        // The proof: the real broker accepts the gateway's certificate, and its ACL lets it publish on its own topics.
        var trusted = PemTls.LoadBundle((string)uplink["CaPath"]!);
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId(GatewayId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost")
                .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted))
                .WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey((string)uplink["CertificatePath"]!, keyPath))))
            .Build());
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"edge/v1/{GatewayId}/events").WithPayload("{}"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        // Nobody subscribes in this test; what matters is that the ACL did not answer NotAuthorized.
        Assert.Contains(published.ReasonCode, new[] { MqttClientPublishReasonCode.Success, MqttClientPublishReasonCode.NoMatchingSubscribers });
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task A_rerun_keeps_the_key_and_the_certificate_and_changes_nothing()
    {
        string[] args = ["gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId, "--endpoint", "mqtt.example:8883", "--config-dir", ConfigDir, "--json"];
        var first = await Technician.RunAsync(args);
        Assert.True(first.ExitCode == ExitCodes.Ok, first.Error);
        var files = new[] { "gateway.key", "gateway.crt", "uplink-ca.crt", "agent.json" }.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(ConfigDir, f)));

        // The id now comes from agent.json.
        var second = await Technician.RunAsync(["gateway", "register", "--clinic", "north", "--name", "North", "--endpoint", "mqtt.example:8883", "--config-dir", ConfigDir, "--json"]);

        Assert.True(second.ExitCode == ExitCodes.Ok, second.Error);
        var result = JsonDocument.Parse(second.Output).RootElement;
        Assert.False(result.GetProperty("changed").GetBoolean());
        Assert.False(result.GetProperty("key_created").GetBoolean());
        foreach (var (name, bytes) in files)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(ConfigDir, name))), $"{name} changed on a re-run");
        }

        Assert.DoesNotContain(Directory.GetFiles(ConfigDir), f => Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task A_refusal_by_the_api_leaves_no_files_behind()
    {
        var result = await Technician.RunAsync("gateway", "register", "--clinic", "south", "--name", "South", "--id", GatewayId,
            "--endpoint", "mqtt.example", "--config-dir", ConfigDir);

        Assert.Equal(ExitCodes.Forbidden, result.ExitCode);
        Assert.Contains("403 Forbidden", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(ConfigDir));
    }

    [Fact]
    public async Task A_place_that_cannot_be_written_registers_nothing()
    {
        var blocker = Home.File("not-a-directory");
        await File.WriteAllTextAsync(blocker, "a file where the directory should be");

        var result = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example", "--config-dir", Path.Combine(blocker, "edge-agent"));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("cannot write the gateway's files", result.Error, StringComparison.Ordinal);
        Assert.Contains("Nothing was registered.", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("admin").GetAsync($"/v1/gateways/{GatewayId}")).StatusCode);
    }

    [Fact]
    public async Task A_config_of_another_gateway_or_a_bad_endpoint_is_refused_before_anything_happens()
    {
        Directory.CreateDirectory(ConfigDir);
        await File.WriteAllTextAsync(Path.Combine(ConfigDir, "agent.json"), """{ "Agent": { "GatewayId": "gw-other" } }""");

        var other = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example", "--config-dir", ConfigDir);
        var badEndpoint = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example:99999", "--config-dir", ConfigDir);

        Assert.Equal(ExitCodes.Usage, other.ExitCode);
        Assert.Contains("is gateway gw-other", other.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, badEndpoint.ExitCode);
        Assert.Contains("--endpoint: 'mqtt.example:99999' has no valid port", badEndpoint.Error, StringComparison.Ordinal);
        Assert.Equal(["agent.json"], Directory.GetFiles(ConfigDir).Select(Path.GetFileName));
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("admin").GetAsync($"/v1/gateways/{GatewayId}")).StatusCode);
    }

    [Fact]
    public async Task Registration_tells_the_agent_where_to_renew_only_over_https()
    {
        // This API is http: the agent is not told to renew there, and the technician is told renewal is off.
        var plain = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example:8883", "--config-dir", ConfigDir);
        Assert.True(plain.ExitCode == ExitCodes.Ok, plain.Error);
        Assert.Contains("Renewal       off:", plain.Output, StringComparison.Ordinal);
        Assert.Null(JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "agent.json")))!["Agent"]!["CertificateRenewal"]);

        // Named explicitly (the API behind its https load balancer), with the CA its certificate chains to.
        var ca = Home.File("api-ca.pem");
        await File.WriteAllTextAsync(ca, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        var https = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example:8883", "--config-dir", ConfigDir, "--json", "--renewal-api", "https://api.example.org/", "--renewal-api-ca", ca);
        Assert.True(https.ExitCode == ExitCodes.Ok, https.Error);
        Assert.Equal("https://api.example.org", JsonDocument.Parse(https.Output).RootElement.GetProperty("renewal_api_url").GetString());
        var renewal = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "agent.json")))!["Agent"]!["CertificateRenewal"]!;
        Assert.Equal("https://api.example.org", (string?)renewal["ApiUrl"]);
        Assert.Equal(ca, (string?)renewal["ApiCaPath"]);

        // An http renewal URL would send the gateway's certificate-authenticated request in clear: refused before anything happens.
        var http = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--endpoint", "mqtt.example:8883", "--config-dir", ConfigDir, "--renewal-api", "http://api.example.org");
        Assert.Equal(ExitCodes.Usage, http.ExitCode);
        Assert.Contains("--renewal-api: 'http://api.example.org' is not an https:// URL", http.Error, StringComparison.Ordinal);
    }
}
