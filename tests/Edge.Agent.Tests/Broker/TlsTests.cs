using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Tls;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Broker;

/// <summary>The device TLS listener: server certificate, and device login by a client certificate whose CN is the serial.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly TempDirectory _pki = new();
    private DevelopmentCa _ca = null!;
    private InProcessAgent _agent = null!;
    private int _tlsPort;

    public async Task InitializeAsync()
    {
        _ca = new DevelopmentCa(_pki.File("ca"));
        _tlsPort = FreePort.Next();
        _agent = await InProcessAgent.StartAsync(
            $"--Agent:Broker:Tls:Port={_tlsPort}",
            $"--Agent:Broker:Tls:CertificatePath={_ca.ServerCertificatePath}",
            $"--Agent:Broker:Tls:KeyPath={_ca.ServerKeyPath}",
            $"--Agent:Broker:Tls:ClientCaPath={_ca.CaPath}");
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _ca.Dispose();
        _pki.Dispose();
    }

    [Fact]
    public async Task A_device_certificate_whose_cn_is_its_serial_logs_in_without_a_secret_and_publishes()
    {
        var (certificate, key) = _ca.IssueClient("OXY-8844-5521");
        using var client = new MqttClientFactory().CreateMqttClient();

        var connected = await client.ConnectAsync(Options("OXY-8844-5521", certificate, key, password: null));
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("devices/OXY-8844-5521/telemetry")
            .WithPayload(Seed.Oxygen("OXY-8844-5521", Seed.Start))
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        Assert.True(published.IsSuccess);
        Assert.Single(_agent.Journal.Read(Lane.Routine, 0, 10));
    }

    [Fact]
    public async Task A_device_with_a_secret_may_use_the_tls_listener_too()
    {
        var secret = await _agent.Admin.AddDeviceAsync("ECG-7711-0045");
        using var client = new MqttClientFactory().CreateMqttClient();

        var connected = await client.ConnectAsync(Options("ECG-7711-0045", certificatePath: null, keyPath: null, password: secret));

        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_refused()
    {
        using var otherDirectory = new TempDirectory();
        using var other = new DevelopmentCa(otherDirectory.Path);
        var (certificate, key) = other.IssueClient("OXY-8844-5521");
        using var client = new MqttClientFactory().CreateMqttClient();

        var refused = await TryConnectAsync(client, Options("OXY-8844-5521", certificate, key, password: null));

        Assert.True(refused, "a device certificate not issued by Agent:Broker:Tls:ClientCaPath must not log in");
    }

    [Fact]
    public async Task A_certificate_whose_cn_is_not_a_serial_does_not_authenticate()
    {
        var (certificate, key) = _ca.IssueClient("maintenance-laptop");
        using var client = new MqttClientFactory().CreateMqttClient();

        var refused = await TryConnectAsync(client, Options("OXY-8844-5521", certificate, key, password: null));

        Assert.True(refused, "a certificate must name a serial to stand in for a device secret");
    }

    private MqttClientOptions Options(string serial, string? certificatePath, string? keyPath, string? password)
    {
        var trusted = PemTls.LoadBundle(_ca.CaPath);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _tlsPort)
            .WithClientId(serial)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost("localhost")
                    .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted));
                if (certificatePath is not null && keyPath is not null)
                {
                    tls.WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey(certificatePath, keyPath)));
                }
            });
        if (password is not null)
        {
            builder.WithCredentials(serial, password);
        }

        return builder.Build();
    }

    // Refused either in the TLS handshake (untrusted certificate) or with a CONNACK reason: both keep the device out.
    private static async Task<bool> TryConnectAsync(IMqttClient client, MqttClientOptions options)
    {
        try
        {
            var result = await client.ConnectAsync(options);
            return result.ResultCode != MqttClientConnectResultCode.Success;
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or System.Security.Authentication.AuthenticationException or IOException)
        {
            return true;
        }
    }
}
