using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Tls;

namespace Edge.Cli.Tests.Agent;

/// <summary><c>edgectl agent device-ca</c> and the device listeners in <c>edgectl agent status</c>, against the real agent.</summary>
public sealed class DeviceTlsCommandTests
{
    [Fact]
    public async Task Device_ca_prints_the_ca_the_agent_created_and_devices_trusting_it_connect()
    {
        await using var agent = await InProcessAgent.StartWithShippedListenersAsync(_ => { });
        using var directory = new TempDirectory();
        var exported = directory.File("device-ca.pem");

        var printed = await InProcessCli.RunAsync("agent", "device-ca", "--socket", agent.SocketPath);
        var written = await InProcessCli.RunAsync("agent", "device-ca", "--socket", agent.SocketPath, "--output", exported);

        Assert.True(printed.ExitCode == ExitCodes.Ok, printed.Error);
        Assert.True(written.ExitCode == ExitCodes.Ok, written.Error);
        Assert.Equal(await File.ReadAllTextAsync(agent.DeviceCaPath), printed.Output);
        Assert.Equal(printed.Output, await File.ReadAllTextAsync(exported));
        Assert.DoesNotContain("PRIVATE KEY", printed.Output, StringComparison.Ordinal);
        var secret = await AgentCommandTests.AddDeviceAsync(agent, "OXY-8844-5521");
        using var device = await TlsDevice.ConnectAsync(agent.TlsPort, "OXY-8844-5521", secret, PemTls.LoadBundle(exported));
        Assert.True(device.IsConnected);
    }

    [Fact]
    public async Task Status_shows_the_tls_listener_and_no_warning_with_the_shipped_defaults()
    {
        await using var agent = await InProcessAgent.StartWithShippedListenersAsync(_ => { });

        var result = await InProcessCli.RunAsync("agent", "status", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Matches($@"Listening\s+mqtts://127\.0\.0\.1:{agent.TlsPort}\r?\n", result.Output);
        Assert.Matches(@"Certificate\s+the agent's own, valid until \S+.*device CA SHA-256 [0-9A-F]{64}", result.Output);
        Assert.DoesNotContain("WARNING", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_warns_when_the_plain_listener_is_on()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "status", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains($"mqtt://127.0.0.1:{agent.Port}", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"WARNING\s+plain MQTT is on \(Agent:Broker:Port\): device secrets and readings cross the network unencrypted", result.Output);
    }

    [Fact]
    public async Task Device_ca_of_an_agent_with_a_configured_certificate_says_whose_ca_to_use()
    {
        using var pki = new TempDirectory();
        using var ca = new DevelopmentCa(pki.Path);
        await using var agent = await InProcessAgent.StartAsync(
            $"--Agent:Broker:Tls:CertificatePath={ca.ServerCertificatePath}", $"--Agent:Broker:Tls:KeyPath={ca.ServerKeyPath}");

        var result = await InProcessCli.RunAsync("agent", "device-ca", "--socket", agent.SocketPath);

        Assert.NotEqual(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("Agent:Broker:Tls:CertificatePath", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(agent.DeviceCaPath), "with a configured certificate the agent creates no CA of its own");
    }
}
