using System.Net;
using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Tls;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Edge.Testing.Logging;

namespace Edge.Agent.Tests.Broker.Tls;

/// <summary>
/// TLS by default: an agent with no certificate configured creates its own device CA and server certificate, listens
/// for TLS only, and devices that trust that CA (and only those) get in. The plain listener is the operator's choice,
/// and a loud one.
/// </summary>
public sealed class DefaultTlsTests
{
    /// <summary>The plain MQTT port a device on the LAN would try; the shipped defaults must not listen on it.</summary>
    private const int PlainMqttPort = 1883;

    private const int PlainListenerWarning = 2022;

    [Fact]
    public async Task The_shipped_defaults_listen_for_tls_only_and_a_device_trusting_the_gateway_ca_publishes()
    {
        var logs = new RecordedLogs();
        await using var agent = await InProcessAgent.StartWithShippedListenersAsync(s => s.AddSingleton<ILoggerProvider>(logs));

        var listening = ListeningPorts.OfThisProcess();
        Assert.DoesNotContain(PlainMqttPort, listening);
        Assert.Contains(agent.TlsPort, listening);
        Assert.Empty(logs.WithEventId(PlainListenerWarning));

        var secret = await agent.Admin.AddDeviceAsync("OXY-8844-5521");
        using var device = await TlsDevice.ConnectAsync(agent.TlsPort, "OXY-8844-5521", secret, PemTls.LoadBundle(agent.DeviceCaPath));
        var published = await device.PublishAsync(Telemetry("OXY-8844-5521"));

        Assert.True(published.IsSuccess, $"PUBACK {published.ReasonCode}");
        Assert.Single(agent.Journal.Read(Lane.Routine, 0, 10));
        var status = await agent.Admin.StatusAsync();
        Assert.False(status.Broker!.PlainEnabled);
        Assert.Null(status.Broker.Warning);
    }

    [Fact]
    public async Task An_agent_without_a_certificate_creates_a_device_ca_and_a_server_certificate_for_its_names_with_keys_0600()
    {
        await using var agent = await InProcessAgent.StartWithShippedListenersAsync(_ => { });
        var tls = Path.Combine(agent.StateDirectory, "tls");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, "device-ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, "server.key")));
        using var server = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(tls, "server.pem")));
        Assert.True(PemTls.ChainsTo(server, PemTls.LoadBundle(agent.DeviceCaPath)), "the server certificate must chain to the device CA");
        var names = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", names.EnumerateDnsNames());
        Assert.Contains(Dns.GetHostName(), names.EnumerateDnsNames());
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.True(server.NotAfter > DateTime.UtcNow.AddDays(300), $"server certificate valid until {server.NotAfter:O}");
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_device_ca_fails_the_handshake()
    {
        await using var agent = await InProcessAgent.StartWithShippedListenersAsync(_ => { });
        var secret = await agent.Admin.AddDeviceAsync("OXY-8844-5521");
        using var otherDirectory = new TempDirectory();
        using var other = new DevelopmentCa(otherDirectory.Path, "Someone else's CA");
        using var client = new MqttClientFactory().CreateMqttClient();

        var error = await Record.ExceptionAsync(() =>
            client.ConnectAsync(TlsDevice.Options(agent.TlsPort, "OXY-8844-5521", secret, PemTls.LoadBundle(other.CaPath))));

        Assert.NotNull(error);
        Assert.False(client.IsConnected);
        Assert.Equal(0, (await agent.Admin.StatusAsync()).DevicesConnected);
    }

    [Fact]
    public async Task A_restart_keeps_the_device_ca_so_devices_keep_trusting_the_gateway()
    {
        var agent = await InProcessAgent.StartWithShippedListenersAsync(_ => { });
        var secret = await agent.Admin.AddDeviceAsync("CPAP-2301-9912");
        var caBefore = await File.ReadAllTextAsync(agent.DeviceCaPath);
        var trusted = PemTls.LoadBundle(agent.DeviceCaPath);

        await using var restarted = await agent.RestartAsync();
        using var device = await TlsDevice.ConnectAsync(restarted.TlsPort, "CPAP-2301-9912", secret, trusted);

        Assert.Equal(caBefore, await File.ReadAllTextAsync(restarted.DeviceCaPath));
        Assert.True(device.IsConnected);
    }

    [Fact]
    public async Task With_the_plain_listener_turned_on_the_agent_warns_at_start_and_in_its_status()
    {
        var logs = new RecordedLogs();
        await using var agent = await InProcessAgent.StartAsync(s => s.AddSingleton<ILoggerProvider>(logs));

        var warning = Assert.Single(logs.WithEventId(PlainListenerWarning));
        Assert.Contains($"127.0.0.1:{agent.Port}", warning, StringComparison.Ordinal);
        Assert.Contains("Agent:Broker:Port", warning, StringComparison.Ordinal);
        var status = await agent.Admin.StatusAsync();
        Assert.True(status.Broker!.PlainEnabled);
        Assert.Contains("unencrypted", status.Broker.Warning, StringComparison.Ordinal);
        Assert.Contains(agent.Port, ListeningPorts.OfThisProcess());
    }

    private static MqttApplicationMessage Telemetry(string serial) => new MqttApplicationMessageBuilder()
        .WithTopic($"devices/{serial}/telemetry")
        .WithPayload(Seed.Oxygen(serial, Seed.Start))
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .Build();
}
