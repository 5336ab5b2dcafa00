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

        // Raw HTTP over the socket: the agent answers 413 and closes while a client may still be writing, which an
        // HttpClient reports as a broken pipe instead of the answer.
        // Announced: refused from the header, before any of the body is read.
        var announced = await RawRequestAsync(agent.SocketPath,
            $"POST /v1/devices/{Cpap}/config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n", chunks: 0);
        Assert.StartsWith("HTTP/1.1 413", announced, StringComparison.Ordinal);
        Assert.Contains("Agent:Admin:MaxRequestBodyBytes", announced, StringComparison.Ordinal);

        // Chunked, no length announced: stopped at the limit while it is read (1 MiB offered in 8 KiB chunks).
        var chunked = await RawRequestAsync(agent.SocketPath,
            "POST /v1/devices HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", chunks: 128);
        Assert.StartsWith("HTTP/1.1 413", chunked, StringComparison.Ordinal);
        Assert.Contains("Agent:Admin:MaxRequestBodyBytes", chunked, StringComparison.Ordinal);

        // Still serving: a normal request right after.
        Assert.Equal("gw-test", (await agent.Admin.StatusAsync()).GatewayId);
        Assert.False(string.IsNullOrEmpty(await agent.Admin.AddDeviceAsync(Cpap)));
    }

    // Sends the head, then up to `chunks` chunks of 8 KiB of spaces (stopping when the agent has closed), and returns the answer.
    private static async Task<string> RawRequestAsync(string socketPath, string head, int chunks)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        await using var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var chunk = Encoding.ASCII.GetBytes("2000\r\n" + new string(' ', 8192) + "\r\n");
        try
        {
            for (var i = 0; i < chunks; i++)
            {
                await stream.WriteAsync(chunk);
            }
        }
        catch (IOException)
        {
            // The agent stopped reading and closed: what is being tested.
        }

        socket.ReceiveTimeout = 30_000;
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30))) > 0)
        {
            answer.Append(buffer, 0, read);
            if (answer.ToString().Contains("MaxRequestBodyBytes", StringComparison.Ordinal))
            {
                break;
            }
        }

        return answer.ToString();
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
