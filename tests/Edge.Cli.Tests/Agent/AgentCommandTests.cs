using System.Text.Json;
using Edge.Cli.Simulate;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using MQTTnet;

namespace Edge.Cli.Tests.Agent;

/// <summary><c>edgectl agent …</c> against the real agent: its admin socket, its credential store, its broker.</summary>
public sealed class AgentCommandTests
{
    static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);

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
    public async Task Status_shows_what_the_agent_took_in_at_a_glance()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:GatewayId=gw-clinic-042", "--Agent:Journal:QuotaBytes=67108864");
        const string serial = "OXY-8844-5521";
        await using var device = await TestDevice.ConnectAsync(agent.Port, serial, await AddDeviceAsync(agent, serial));
        using var readings = new ReadingGenerator(SerialNumber.Parse(serial), seed: 1, alarmRatio: 0);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(MqttClientPublishReasonCode.Success, (await device.PublishAsync(DeviceTopics.Telemetry(serial), readings.Next(Start.AddSeconds(i)).ToArray())).ReasonCode);
        }

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, (await device.PublishAsync(DeviceTopics.Telemetry(serial), "not json"u8.ToArray())).ReasonCode);
        await Eventually.TrueAsync(async () => (await StatusAsync(agent)).DevicesConnected == 1, TimeSpan.FromSeconds(30), "the agent to count the device as connected");
        var result = await InProcessCli.RunAsync("agent", "status", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Empty(result.Error);
        Assert.Matches(@"Gateway\s+gw-clinic-042 \(edge-agent \S+\)", result.Output);
        Assert.Matches(@"Devices\s+1 connected", result.Output);
        Assert.Contains($"{Path.Combine(agent.StateDirectory, "journal.db")} (epoch ", result.Output, StringComparison.Ordinal);
        Assert.Contains("last sequence 3, not encrypted)", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"Quota\s+\d+\.\d% used \(\d+ B of 64\.0 MiB\)", result.Output);
        // The write-ahead log is on by default; its full-log waits are counted on the same line.
        Assert.Matches(@"(?m)Commits\s+\d+ since start, \d+\.\d writes each, fdatasync \d+\.\d\d ms on average; write-ahead log, full 0 times\r?$", result.Output);
        Assert.Matches(@"routine\s+3\s+\d+ B\s+\S+", result.Output);
        Assert.Matches(@"urgent\s+0\s+0 B\s+-", result.Output);
        Assert.Contains("3 accepted, 0 duplicates, 1 refused (PayloadFormatInvalid 1)", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"Dead letters\s+1 \(edgectl deadletters list\)", result.Output);
        Assert.Matches(@"Not stored\s+none", result.Output);
    }

    [Fact]
    public async Task Status_json_is_the_agent_status_document()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:QuotaBytes=67108864", "--Agent:Journal:MinCommitIntervalMs=100", "--Agent:Journal:WriteAheadLog=true");

        var result = await InProcessCli.RunAsync("agent", "status", "--json", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var status = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.AgentStatus)!;
        Assert.Equal(InProcessAgent.DefaultGatewayId, status.GatewayId);
        Assert.Equal(Path.Combine(agent.StateDirectory, "journal.db"), status.Journal.Path);
        Assert.Equal(64L << 20, status.Journal.QuotaBytes);
        Assert.Equal(0, status.Journal.LastSequence);
        Assert.Equal(["urgent", "routine"], status.Journal.Lanes.Select(l => l.Lane));
        Assert.Equal(0, status.Ingest.Accepted);
        Assert.Equal(0, status.DeadLetters);
        Assert.Equal(100, status.Journal.Commits!.MinCommitIntervalMs);
        Assert.True(status.Journal.Commits.WriteAheadLog);
        Assert.Equal(0, status.Journal.Commits.WriteAheadLogFull);
    }

    [Fact]
    public async Task Status_shows_the_commit_interval_when_one_is_set()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:MinCommitIntervalMs=250");

        var result = await InProcessCli.RunAsync("agent", "status", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Matches(@"Commits\s+.*; commit interval 250 ms \(alarms do not wait\)", result.Output);
    }

    [Fact]
    public async Task Adding_a_device_prints_a_secret_the_broker_accepts_with_a_warning_that_it_is_shown_once()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "CPAP-2301-9912", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var lines = result.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Device CPAP-2301-9912 added.", lines[0]);
        Assert.StartsWith("Secret: ", lines[1], StringComparison.Ordinal);
        Assert.Equal(
            "warning: Store this secret in device CPAP-2301-9912 now: it is shown only once and the agent keeps only a hash of it." + Environment.NewLine,
            result.Error);
        Assert.Equal(MqttClientConnectResultCode.Success, await TestDevice.CheckLoginAsync(agent.Port, "CPAP-2301-9912", lines[1]["Secret: ".Length..]));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await TestDevice.CheckLoginAsync(agent.Port, "CPAP-2301-9912", "a guess"));
    }

    [Fact]
    public async Task Adding_a_device_as_json_prints_only_the_device_secret_on_stdout()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "OXY-8844-5521", "--json", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var secret = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeviceSecret)!;
        Assert.Equal("OXY-8844-5521", secret.Serial);
        Assert.Equal(MqttClientConnectResultCode.Success, await TestDevice.CheckLoginAsync(agent.Port, secret.Serial, secret.Secret));
    }

    [Fact]
    public async Task Adding_a_device_twice_is_refused_with_the_rotate_command_to_use()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secret = await AddDeviceAsync(agent, "ECG-7711-0045");

        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", "ECG-7711-0045", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Equal(
            "edgectl: device ECG-7711-0045 already has a credential. To issue a new secret: edgectl agent device rotate --serial ECG-7711-0045" +
            Environment.NewLine,
            result.Error);
        Assert.Empty(result.Output);
        // The refused add left the first secret in place.
        Assert.Equal(MqttClientConnectResultCode.Success, await TestDevice.CheckLoginAsync(agent.Port, "ECG-7711-0045", secret));
    }

    [Fact]
    public async Task Rotating_a_secret_makes_the_old_one_stop_working_and_the_new_one_work()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var old = await AddDeviceAsync(agent, "OXY-8844-5521");

        var result = await InProcessCli.RunAsync("agent", "device", "rotate", "--serial", "OXY-8844-5521", "--json", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var rotated = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeviceSecret)!;
        Assert.NotEqual(old, rotated.Secret);
        Assert.Contains("shown only once", result.Error, StringComparison.Ordinal);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await TestDevice.CheckLoginAsync(agent.Port, "OXY-8844-5521", old));
        Assert.Equal(MqttClientConnectResultCode.Success, await TestDevice.CheckLoginAsync(agent.Port, "OXY-8844-5521", rotated.Secret));

        var list = await ListDevicesAsync(agent);
        Assert.NotNull(Assert.Single(list).RotatedAt);
    }

    [Fact]
    public async Task Rotating_an_unknown_device_shows_the_agents_problem_details()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "rotate", "--serial", "ECG-7711-0045", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Equal(
            "edgectl: the agent refused to rotate the secret of device ECG-7711-0045: " +
            "Unknown device (ECG-7711-0045 has no credential on this agent) [HTTP 404]." + Environment.NewLine,
            result.Error);
    }

    [Fact]
    public async Task Devices_are_listed_with_kind_and_connection_and_a_removed_device_can_no_longer_connect()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var cpapSecret = await AddDeviceAsync(agent, "CPAP-2301-9912");
        var oxySecret = await AddDeviceAsync(agent, "OXY-8844-5521");
        await using var cpap = await TestDevice.ConnectAsync(agent.Port, "CPAP-2301-9912", cpapSecret);
        await Eventually.TrueAsync(
            async () => (await ListDevicesAsync(agent)).Single(d => d.Serial == "CPAP-2301-9912").Connected, TimeSpan.FromSeconds(30), "CPAP-2301-9912 to show as connected");

        var table = await InProcessCli.RunAsync("agent", "device", "list", "--socket", agent.SocketPath);
        var removed = await InProcessCli.RunAsync("agent", "device", "remove", "--serial", "OXY-8844-5521", "--socket", agent.SocketPath);
        var after = await ListDevicesAsync(agent);

        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        var lines = table.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^SERIAL +KIND +CREATED +ROTATED +CONNECTED +ORIGIN$", lines[0]);
        Assert.Matches(@"^CPAP-2301-9912 +cpap +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +- +yes +operator$", lines[1]);
        Assert.Matches(@"^OXY-8844-5521 +oxygen +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +- +no +operator$", lines[2]);
        Assert.DoesNotContain(cpapSecret, table.Output, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Ok, removed.ExitCode);
        Assert.Equal("Device OXY-8844-5521 removed." + Environment.NewLine, removed.Output);
        Assert.Equal(["CPAP-2301-9912"], after.Select(d => d.Serial));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await TestDevice.CheckLoginAsync(agent.Port, "OXY-8844-5521", oxySecret));
    }

    [Fact]
    public async Task An_empty_device_list_says_how_to_add_one()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "list", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal("No device credentials. Add one: edgectl agent device add --serial CPAP-2301-9912" + Environment.NewLine, result.Output);
    }

    [Fact]
    public async Task Removing_an_unknown_device_is_refused_by_the_agent()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "device", "remove", "--serial", "BIPAP-1000-0001", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Equal(
            "edgectl: the agent refused to remove device BIPAP-1000-0001: Unknown device (BIPAP-1000-0001 has no credential on this agent) [HTTP 404]." +
            Environment.NewLine,
            result.Error);
    }

    [Theory]
    [InlineData("cpap-1", "'cpap-1' is not a device serial: prefix 'cpap' must be upper case ('CPAP')")]
    [InlineData("CPAP2301", "'CPAP2301' is not a device serial: no '-' in 'CPAP2301'")]
    [InlineData("PUMP-2301-9912", "'PUMP-2301-9912' is not a device serial: unknown prefix 'PUMP'; expected CPAP, BIPAP, OXY or ECG")]
    [InlineData("ECG-77-0045", "'ECG-77-0045' is not a device serial: 'ECG-77-0045' does not have two groups of 4 digits after 'ECG-'")]
    public async Task A_malformed_serial_is_a_usage_error_with_the_contracts_reason_before_anything_is_sent(string serial, string reason)
    {
        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", serial, "--socket", "/nonexistent.sock");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith($"edgectl: --serial: {reason}", result.Error, StringComparison.Ordinal);
        Assert.Contains("Run 'edgectl agent device add --help' for usage.", result.Error, StringComparison.Ordinal);
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

    /// <summary>Adds a device through edgectl and returns the secret it printed.</summary>
    internal static async Task<string> AddDeviceAsync(InProcessAgent agent, string serial)
    {
        var result = await InProcessCli.RunAsync("agent", "device", "add", "--serial", serial, "--json", "--socket", agent.SocketPath);
        Assert.True(result.ExitCode == ExitCodes.Ok, $"edgectl agent device add failed with {result.ExitCode}: {result.Error}");
        return JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeviceSecret)!.Secret;
    }

    /// <summary>The agent's status as <c>edgectl agent status --json</c> prints it.</summary>
    internal static async Task<AgentStatus> StatusAsync(InProcessAgent agent)
    {
        var result = await InProcessCli.RunAsync("agent", "status", "--json", "--socket", agent.SocketPath);
        Assert.True(result.ExitCode == ExitCodes.Ok, $"edgectl agent status failed with {result.ExitCode}: {result.Error}");
        return JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.AgentStatus)!;
    }

    /// <summary>The agent's device credentials as <c>edgectl agent device list --json</c> prints them.</summary>
    internal static async Task<DeviceCredentialInfo[]> ListDevicesAsync(InProcessAgent agent)
    {
        var result = await InProcessCli.RunAsync("agent", "device", "list", "--json", "--socket", agent.SocketPath);
        Assert.True(result.ExitCode == ExitCodes.Ok, $"edgectl agent device list failed with {result.ExitCode}: {result.Error}");
        return JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeviceCredentialInfoArray)!;
    }
}
