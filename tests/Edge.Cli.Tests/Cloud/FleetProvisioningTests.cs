using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Testing.Postgres;

namespace Edge.Cli.Tests.Cloud;

/// <summary>
/// <c>gateway register --aws-fleet-provisioning</c> over a real mosquitto, with <see cref="AwsFleetProvisioningResponder"/>
/// standing in for AWS IoT's side of the protocol, and the real API for the registry.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class FleetProvisioningTests(PostgresServer server) : CloudTest(server)
{
    const string GatewayId = "gw-aws-1";
    const string Template = "ClinicEdgeGateway";

    MosquittoServer _broker = null!;
    AwsFleetProvisioningResponder _aws = null!;
    string _claimCertificate = null!;
    string _claimKey = null!;

    string ConfigDir => Home.File("etc-edge-agent");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _broker = await MosquittoServer.StartNewAsync(allowAwsProvisioningTopics: true);
        _aws = await AwsFleetProvisioningResponder.StartAsync(_broker, Template);
        (_claimCertificate, _claimKey) = _broker.GatewayCa.IssueClient("claim-batch-7");
    }

    public override async Task DisposeAsync()
    {
        await _aws.DisposeAsync();
        await _broker.DisposeAsync();
        await base.DisposeAsync();
    }

    string[] Register(string template = Template) =>
    [
        "gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId, "--aws-fleet-provisioning",
        "--claim-cert", _claimCertificate, "--claim-key", _claimKey, "--template", template,
        "--endpoint", $"127.0.0.1:{_broker.Port}", "--broker-ca", _broker.Ca.CaPath, "--config-dir", ConfigDir, "--json",
    ];

    [Fact]
    public async Task Fleet_provisioning_gets_a_certificate_for_the_local_key_and_registers_its_fingerprint()
    {
        var result = await Technician.RunAsync(Register());

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error + string.Join('\n', _aws.Failures)); // the responder's own failures explain a timeout
        var parameters = Assert.Single(_aws.ProvisionedThings);
        Assert.Equal(GatewayId, parameters["GatewayId"]);
        Assert.Equal("north", parameters["ClinicId"]);
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "gateway.crt")));
        using var key = ECDsa.Create();
        key.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "gateway.key")));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        Assert.Equal(fingerprint, JsonDocument.Parse(result.Output).RootElement.GetProperty("fingerprint").GetString());
        var gateway = await Api.As("admin").GetFromJsonAsync<JsonElement>($"/v1/gateways/{GatewayId}");
        Assert.Equal(fingerprint, gateway.GetProperty("certificate_fingerprint").GetString());
        var uplink = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigDir, "agent.json")))!["Agent"]!["Uplink"]!;
        Assert.Equal(_broker.Ca.CaPath, (string?)uplink["CaPath"]);
        Assert.Equal(_broker.Port, (int)uplink["Port"]!);

        // A re-run provisions nothing new in AWS IoT and changes nothing here.
        var again = await Technician.RunAsync(Register());
        Assert.True(again.ExitCode == ExitCodes.Ok, again.Error);
        Assert.False(JsonDocument.Parse(again.Output).RootElement.GetProperty("changed").GetBoolean());
        Assert.Single(_aws.IssuedCertificates);
    }

    [Fact]
    public async Task A_rejection_by_aws_iot_is_reported_and_leaves_nothing_behind()
    {
        var result = await Technician.RunAsync(Register(template: "NoSuchTemplate"));

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("AWS IoT rejected RegisterThing with template NoSuchTemplate: ResourceNotFound", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(ConfigDir));
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("admin").GetAsync($"/v1/gateways/{GatewayId}")).StatusCode);
    }

    [Fact]
    public async Task Claim_options_are_required_together_with_the_flag()
    {
        var result = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--aws-fleet-provisioning", "--claim-cert", _claimCertificate, "--endpoint", "127.0.0.1", "--config-dir", ConfigDir);
        var stray = await Technician.RunAsync("gateway", "register", "--clinic", "north", "--name", "North", "--id", GatewayId,
            "--template", Template, "--endpoint", "127.0.0.1", "--config-dir", ConfigDir);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--claim-key is required with --aws-fleet-provisioning.", result.Error, StringComparison.Ordinal);
        Assert.Contains("--template is required with --aws-fleet-provisioning.", result.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, stray.ExitCode);
        Assert.Contains("--template is only used with --aws-fleet-provisioning.", stray.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ConfigDir));
    }
}
