using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Edge.Agent.Downlink;
using Edge.Contracts.Downlink;
using Edge.Testing;
using Edge.Testing.Agent;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Tests.Admin;

/// <summary>
/// What a member of the admin socket's group (or any local process) can try against the socket: lie about who it is,
/// send a body without end, or count on a socket that everyone may open.
/// </summary>
public sealed class AdminSocketAttackTests
{
    private const string Cpap = "CPAP-2301-9912";

    [Fact]
    public async Task A_spoofed_actor_header_is_ignored_and_the_peer_user_the_kernel_names_is_recorded()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var body = JsonSerializer.Serialize(new
        {
            serial = Cpap,
            config = new { target_pressure = 9, humidity_level = 3, alerts = new { leak_threshold = 30, rr_low = 10, rr_high = 26 } },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/devices/{Cpap}/config") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Edge-Actor", "chief-of-medicine");

        using var pushed = await agent.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        var recorded = Assert.Single(agent.Service<DeviceStateStore>().PendingEvents(10), e => e.Type == GatewayEvent.ConfigOnSite);
        // The test process is the socket's peer: its user (root where the suite runs) is who pushed the config.
        Assert.Equal(Environment.UserName, recorded.Actor);
    }

    [Fact]
    public async Task An_oversized_request_body_gets_413_naming_the_limit_and_the_agent_keeps_serving()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var huge = new byte[1024 * 1024];
        Array.Fill(huge, (byte)' ');

        // Announced: refused before the agent reads it.
        using var announced = new ByteArrayContent(huge);
        announced.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var first = await agent.Admin.PostAsync($"v1/devices/{Cpap}/config", announced);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, first.StatusCode);
        Assert.Contains("Agent:Admin:MaxRequestBodyBytes", await first.Content.ReadAsStringAsync());

        // Chunked, no length announced: stopped at the limit while it is read.
        using var chunked = new StreamContent(new MemoryStream(huge));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/devices") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var second = await agent.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, second.StatusCode);
        Assert.Contains("Agent:Admin:MaxRequestBodyBytes", await second.Content.ReadAsStringAsync());

        // Still serving: a normal request right after.
        Assert.Equal("gw-test", (await agent.Admin.StatusAsync()).GatewayId);
        Assert.False(string.IsNullOrEmpty(await agent.Admin.AddDeviceAsync(Cpap)));
    }

    [Theory]
    [InlineData("0666")]
    [InlineData("0662")]
    [InlineData("0777")]
    public async Task A_socket_mode_that_lets_everyone_connect_is_refused_at_start_naming_the_setting(string mode)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var agent = await InProcessAgent.StartAsync($"--Agent:Admin:SocketMode={mode}");
        });
        Assert.Contains("Agent:Admin:SocketMode", error.Message);
    }

    [Fact]
    public async Task The_socket_is_given_to_the_admin_group()
    {
        // nogroup (65534) exists on every Debian machine; the tests run as root, which may give a file to any group.
        await using var agent = await InProcessAgent.StartAsync("--Agent:Admin:SocketGroup=nogroup");

        Assert.Equal("nogroup 660", await StatAsync("%G %a", agent.SocketPath));
        Assert.Equal("gw-test", (await agent.Admin.StatusAsync()).GatewayId);
    }

    [Fact]
    public async Task A_socket_group_that_does_not_exist_is_refused_at_start_naming_the_setting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var agent = await InProcessAgent.StartAsync("--Agent:Admin:SocketGroup=no-such-group-here");
        });
        Assert.Contains("Agent:Admin:SocketGroup", error.Message);
    }

    internal static async Task<string> StatAsync(string format, string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true })!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }
}
