using System.Text.Json;
using Edge.Cli.Gateways;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Admin;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl gateway status [--watch]</c> against the real agent's admin socket.</summary>
public sealed class GatewayStatusTests
{
    [Fact]
    public async Task Status_json_is_the_agent_status_and_watch_until_drained_stops_when_nothing_waits()
    {
        await using var agent = await InProcessAgent.StartAsync();
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.Path);

        var once = await edgectl.RunAsync("gateway", "status", "--json", "--socket", agent.SocketPath);
        var watch = await edgectl.RunAsync("gateway", "status", "--watch", "--until-drained", "--interval", "200ms", "--socket", agent.SocketPath);

        Assert.True(once.ExitCode == ExitCodes.Ok, once.Error);
        Assert.Equal(InProcessAgent.DefaultGatewayId, JsonSerializer.Deserialize(once.Output, AdminJsonContext.Default.AgentStatus)!.GatewayId);
        Assert.True(watch.ExitCode == ExitCodes.Ok, watch.Error);
        Assert.Matches(@"Uplink\s+not configured", watch.Output);
        Assert.Matches(@"Draining\s+nothing to sync", watch.Output);
    }

    [Fact]
    public void The_progress_bar_shows_how_much_of_the_largest_backlog_is_synced()
    {
        var uplink = new UplinkStatus(true, "mqtt.example:8883", true, 2, 750, 10, 0, 0, null, 5, 250, 60, 50);

        var progress = GatewayStatusCommand.Progress(uplink, largestBacklog: 1000);

        Assert.Equal("[######################........] 75% (250 of 1,000 readings left, done in about 50s)", progress);
    }
}
