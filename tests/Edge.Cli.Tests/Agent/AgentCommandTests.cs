using System.Text.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Admin;

namespace Edge.Cli.Tests.Agent;

public sealed class AgentCommandTests
{
    [Fact]
    public async Task Status_against_a_missing_socket_says_the_agent_cannot_be_reached()
    {
        var result = await InProcessCli.RunAsync("agent", "status", "--socket", "/nonexistent/edge-agent/admin.sock");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Equal(
            "edgectl: cannot reach the agent at /nonexistent/edge-agent/admin.sock (No such file or directory). " +
            "Is edge-agent running? Set --socket or EDGE_AGENT_SOCKET." + Environment.NewLine,
            result.Error);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Status_shows_the_agent_at_a_glance()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "status", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("gw-clinic-042 (edge-agent 0.1.0)", result.Output, StringComparison.Ordinal);
        Assert.Contains("3d 04:12:09", result.Output, StringComparison.Ordinal);
        Assert.Contains("12 connected", result.Output, StringComparison.Ordinal);
        Assert.Contains("40.2% used (412.0 MiB of 1.0 GiB)", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"telemetry\s+1,204\s+310\.2 KiB\s+12s", result.Output);
        Assert.Contains("quota 120", result.Output, StringComparison.Ordinal);
        Assert.Contains("1,234,567 accepted, 12 duplicates, 3 refused (PayloadFormatInvalid 2, NotAuthorized 1)", result.Output, StringComparison.Ordinal);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task Status_json_is_the_agent_status_document()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "status", "--json", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var status = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.AgentStatus);
        Assert.Equal(admin.Status.GatewayId, status!.GatewayId);
        Assert.Equal(admin.Status.Journal.Lanes, status.Journal.Lanes);
    }

    [Fact]
    public async Task Adding_a_device_prints_its_secret_once_with_a_warning()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "CPAP-2301-9912", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains($"Secret: {admin.Secrets["CPAP-2301-9912"]}", result.Output, StringComparison.Ordinal);
        Assert.Contains("shown only once", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_a_device_as_json_prints_the_device_secret()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "OXY-8844-5521", "--json", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var secret = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeviceSecret);
        Assert.Equal(new DeviceSecret("OXY-8844-5521", admin.Secrets["OXY-8844-5521"]), secret);
    }

    [Fact]
    public async Task Adding_a_device_twice_is_refused_with_the_rotate_command_to_use()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();
        await InProcessCli.RunAsync("agent", "device", "add", "--serial", "ECG-7711-0045", "--socket", admin.SocketPath);

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "ECG-7711-0045", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("edgectl agent device rotate --serial ECG-7711-0045", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotating_an_unknown_device_shows_the_agents_problem_details()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "rotate", "--serial", "ECG-7711-0045", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Equal(
            "edgectl: the agent refused to rotate the secret of device ECG-7711-0045: Unknown device (ECG-7711-0045 has no credential) [HTTP 404]." +
            Environment.NewLine,
            result.Error);
    }

    [Fact]
    public async Task Devices_can_be_listed_and_removed()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();
        admin.Secrets["CPAP-2301-9912"] = "s1";
        admin.Secrets["OXY-8844-5521"] = "s2";

        var removed = await InProcessCli.RunAsync("agent", "device", "remove", "--serial", "OXY-8844-5521", "--socket", admin.SocketPath);
        var list = await InProcessCli.RunAsync("agent", "device", "list", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, removed.ExitCode);
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        Assert.Contains("CPAP-2301-9912", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("OXY-8844-5521", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s1", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_serial_is_a_usage_error_before_anything_is_sent()
    {
        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "cpap-1", "--socket", "/nonexistent.sock");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("edgectl: --serial: 'cpap-1' is not a device serial", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dead_letters_are_listed_newest_first_as_a_table()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();
        admin.DeadLetters.Add(new DeadLetterInfo(
            2, new DateTimeOffset(2025, 11, 24, 10, 22, 7, TimeSpan.Zero), "OXY-8844-5521", "devices/OXY-8844-5521/telemetry",
            "PayloadFormatInvalid", "metrics.oxygen_purity_pct: 130 is above 100", 180, "{\"serial\":\"OXY-8844-5521\""));

        var result = await InProcessCli.RunAsync("deadletters", "list", "--limit", "5", "--socket", admin.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("GET /v1/deadletters?limit=5", admin.Requests);
        var lines = result.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^TIME +CLIENT +TOPIC +CODE +REASON$", lines[0]);
        Assert.Contains("2025-11-24 10:22:07Z  OXY-8844-5521  devices/OXY-8844-5521/telemetry  PayloadFormatInvalid  metrics.oxygen_purity_pct", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_command_has_help_with_an_example()
    {
        string[][] commands =
        [
            [], ["agent"], ["agent", "status"], ["agent", "device"], ["agent", "device", "add"], ["agent", "device", "rotate"],
            ["agent", "device", "remove"], ["agent", "device", "list"], ["deadletters"], ["deadletters", "list"], ["simulate"],
        ];
        foreach (var command in commands)
        {
            var result = await InProcessCli.RunAsync([.. command, "--help"]);

            Assert.Equal(ExitCodes.Ok, result.ExitCode);
            Assert.Contains("Example: edgectl", result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_missing_subcommand_is_a_usage_error()
    {
        var result = await InProcessCli.RunAsync("agent");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("Run 'edgectl agent --help' for usage.", result.Error, StringComparison.Ordinal);
    }
}
