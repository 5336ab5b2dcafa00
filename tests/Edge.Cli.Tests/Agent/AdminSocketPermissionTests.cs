using Edge.Cli.Tests.Infrastructure;

namespace Edge.Cli.Tests.Agent;

/// <summary>A technician outside the agent's group is told so, not that the agent is missing.</summary>
public sealed class AdminSocketPermissionTests
{
    [Fact]
    public async Task A_socket_the_user_may_not_open_is_reported_as_permission_denied_with_the_fix()
    {
        await using var agent = await InProcessAgent.StartAsync();
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.Path).With("HOME", home.Path);
        var root = Environment.UserName == "root";
        if (root)
        {
            // Root passes every permission check; the agent's socket lives in a 0700 directory nobody may enter.
            edgectl.AsUser("65534"); // nobody
            File.SetUnixFileMode(home.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        }
        else
        {
            File.SetUnixFileMode(agent.StateDirectory, UnixFileMode.None);
        }

        try
        {
            var result = await edgectl.RunAsync("agent", "status", "--socket", agent.SocketPath);

            Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
            Assert.Equal(
                $"edgectl: cannot reach the agent at {agent.SocketPath} (Permission denied). The socket is only for root and the edge-admin group: " +
                "run with sudo, or join the group (sudo usermod -aG edge-admin $USER, then log in again).\n",
                result.Error);
        }
        finally
        {
            File.SetUnixFileMode(agent.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
