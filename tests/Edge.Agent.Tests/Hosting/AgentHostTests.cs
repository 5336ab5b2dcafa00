using System.Net;
using System.Net.Http.Json;
using Edge.Agent.Hosting;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Edge.Contracts.Admin;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Tests.Hosting;

public sealed class AgentHostTests
{
    [Theory]
    [InlineData("--Agent:GatewayId=", "Agent:GatewayId")]
    [InlineData("--Agent:GatewayId=has spaces", "Agent:GatewayId")]
    [InlineData("--Agent:Broker:Port=70000", "Agent:Broker:Port")]
    [InlineData("--Agent:Broker:BindAddress=clinic-lan", "Agent:Broker:BindAddress")]
    [InlineData("--Agent:Journal:QuotaBytes=1000", "Agent:Journal:QuotaBytes")]
    [InlineData("--Agent:Lanes:CpapRrLow=30", "Agent:Lanes:CpapRrLow")]
    [InlineData("--Agent:Broker:Tls:CertificatePath=/nonexistent/server.pem", "Agent:Broker:Tls:CertificatePath")]
    [InlineData("--Agent:Admin:SocketMode=rw-rw----", "Agent:Admin:SocketMode")]
    [InlineData("--Agent:Broker:FailedConnects:MaxPerAddress=0", "Agent:Broker:FailedConnects:MaxPerAddress")]
    [InlineData("--Agent:Broker:FailedConnects:WindowSeconds=0", "Agent:Broker:FailedConnects:WindowSeconds")]
    public async Task A_misconfigured_agent_fails_at_start_naming_the_setting(string setting, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var agent = await InProcessAgent.StartAsync(setting);
        });
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public async Task The_admin_socket_is_group_only_and_reports_status()
    {
        await using var agent = await InProcessAgent.StartAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(agent.SocketPath));
        var status = await agent.Admin.StatusAsync();
        Assert.Equal("gw-test", status.GatewayId);
        Assert.Equal(["urgent", "routine"], status.Journal.Lanes.Select(l => l.Lane));
        Assert.Equal(0, status.DevicesConnected);
        Assert.True(status.Journal.QuotaBytes > 0);
    }

    [Fact]
    public async Task Device_credentials_are_managed_through_the_admin_socket_and_stored_only_as_hashes_in_a_private_file()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secret = await agent.Admin.AddDeviceAsync("CPAP-2301-9912");

        using var again = await agent.Admin.PostAsJsonAsync("v1/devices", new AddDeviceRequest("CPAP-2301-9912"), AdminJsonContext.Default.AddDeviceRequest);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var bad = await agent.Admin.PostAsJsonAsync("v1/devices", new AddDeviceRequest("PUMP-1"), AdminJsonContext.Default.AddDeviceRequest);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("serial", await bad.Content.ReadAsStringAsync());

        var list = await agent.Admin.GetFromJsonAsync("v1/devices", AdminJsonContext.Default.DeviceCredentialInfoArray);
        Assert.Equal("cpap", Assert.Single(list!).Kind);

        var file = agent.Directory.File("devices.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Dead_letters_are_listed_newest_first_with_a_bounded_limit()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secret = await agent.Admin.AddDeviceAsync("OXY-8844-5521");
        await using var device = await TestDevice.ConnectAsync(agent.Port, "OXY-8844-5521", secret);
        await device.PublishAsync("devices/OXY-8844-5521/telemetry", "first");
        await device.PublishAsync("devices/OXY-8844-5521/telemetry", "second");

        DeadLetterInfo[]? letters = null;
        await Eventually.TrueAsync(async () =>
        {
            letters = await agent.Admin.GetFromJsonAsync("v1/deadletters?limit=10", AdminJsonContext.Default.DeadLetterInfoArray);
            return letters!.Length == 2;
        }, TimeSpan.FromSeconds(10), "two dead letters");
        Assert.Equal("second", letters![0].PayloadPreview);
        Assert.Equal("PayloadFormatInvalid", letters[0].ReasonCode);
        using var tooMany = await agent.Admin.GetAsync("v1/deadletters?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
    }

    [Fact]
    public void Octal_socket_modes_are_parsed_strictly()
    {
        Assert.True(Edge.Agent.Admin.AdminSocketMode.TryParse("0660", out var mode));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, mode);
        Assert.False(Edge.Agent.Admin.AdminSocketMode.TryParse("0668", out _));
        Assert.False(Edge.Agent.Admin.AdminSocketMode.TryParse("66", out _));
    }
}
