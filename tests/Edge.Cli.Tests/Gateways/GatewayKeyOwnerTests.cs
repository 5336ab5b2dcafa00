using System.Diagnostics;
using Edge.Cli.Gateways;
using Edge.Contracts.Security;

namespace Edge.Cli.Tests.Gateways;

/// <summary>
/// The gateway key is the gateway's identity at the cloud broker: only the agent's user may read it. Root:root 0600
/// kept the agent out; root:edge-agent 0640 let in every technician in the service's group.
/// </summary>
public sealed class GatewayKeyOwnerTests
{
    // nobody:nogroup stands in for edge-agent: the tests run as root, which may give a file to any user.
    private static readonly UnixOwner AgentUser = new(65534, 65534);

    [Fact]
    public async Task The_key_register_writes_belongs_to_the_agent_user_with_mode_0600()
    {
        using var dir = new TempDirectory();
        var files = new GatewayFiles(dir.Path, () => AgentUser);

        var (key, created) = files.LoadOrCreateKey();
        key.Dispose();

        Assert.True(created);
        Assert.Equal("65534:65534 600", await StatAsync("%u:%g %a", files.KeyPath));
    }

    [Fact]
    public async Task A_key_an_earlier_release_left_to_root_is_given_to_the_agent_user_when_register_runs_again()
    {
        using var dir = new TempDirectory();
        new GatewayFiles(dir.Path, () => null).LoadOrCreateKey().Key.Dispose();
        var before = await File.ReadAllTextAsync(Path.Combine(dir.Path, "gateway.key"));

        var files = new GatewayFiles(dir.Path, () => AgentUser);
        var (key, created) = files.LoadOrCreateKey();
        key.Dispose();

        Assert.False(created);
        Assert.Equal(before, await File.ReadAllTextAsync(files.KeyPath));
        Assert.Equal("65534:65534 600", await StatAsync("%u:%g %a", files.KeyPath));
    }

    [Fact]
    public async Task Without_an_agent_user_the_key_stays_the_callers_own_with_mode_0600()
    {
        using var dir = new TempDirectory();
        var files = new GatewayFiles(dir.Path, () => null);

        files.LoadOrCreateKey().Key.Dispose();

        Assert.Equal($"{Environment.UserName} 600", await StatAsync("%U %a", files.KeyPath));
    }

    private static async Task<string> StatAsync(string format, string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true })!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }
}
