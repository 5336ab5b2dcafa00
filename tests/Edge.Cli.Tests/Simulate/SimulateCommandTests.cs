using System.Text.Json;
using Edge.Cli.Tests.Agent;
using Edge.Cli.Tests.Infrastructure;
using MQTTnet.Protocol;

namespace Edge.Cli.Tests.Simulate;

public sealed class SimulateCommandTests
{
    [Theory]
    [InlineData("--devices", "0")]
    [InlineData("--devices", "ten")]
    [InlineData("--rate", "-1")]
    [InlineData("--kinds", "foo")]
    [InlineData("--kinds", "cpap,foo")]
    [InlineData("--port", "70000")]
    [InlineData("--duration", "soon")]
    [InlineData("--count", "0")]
    [InlineData("--serial-base", "10000")]
    [InlineData("--protocol", "4")]
    [InlineData("--alarm-ratio", "2")]
    public async Task A_bad_value_is_a_usage_error_that_names_the_option(string option, string value)
    {
        var result = await InProcessCli.RunAsync("simulate", option, value, "--anonymous", "--plain");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith($"edgectl: {option}", result.Error, StringComparison.Ordinal);
        Assert.Contains("edgectl simulate --help", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("--duration", "10s", "--count", "5")]
    [InlineData("--anonymous", "--credentials", "secrets.json")]
    [InlineData("--socket", "/tmp/admin.sock", "--anonymous")]
    [InlineData("--anonymous", "--ca", "device-ca.pem", "--plain")]
    public async Task Conflicting_options_are_a_usage_error(params string[] args)
    {
        var result = await InProcessCli.RunAsync(["simulate", .. args]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("cannot be used together", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_shows_an_example()
    {
        var result = await InProcessCli.RunAsync("simulate", "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("Example: edgectl simulate", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_anonymous_run_prints_its_summary_as_one_json_line()
    {
        await using var broker = await InProcessBroker.StartAsync();

        var result = await InProcessCli.RunAsync(
            "simulate", "--plain", "--port", $"{broker.Port}", "--devices", "3", "--rate", "0", "--count", "10", "--anonymous", "--json");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var summary = JsonDocument.Parse(line);
        Assert.Equal(30, summary.RootElement.GetProperty("acknowledged").GetInt64());
        Assert.Equal(3, summary.RootElement.GetProperty("devices").GetInt32());
        Assert.True(summary.RootElement.TryGetProperty("latencyP99Ms", out _));
        Assert.Equal(
            ["CPAP-9000-0001", "ECG-9000-0003", "OXY-9000-0002"],
            broker.Received.Select(p => p.ClientId).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_run_against_the_agent_is_acknowledged_reading_by_reading_and_journaled()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync(
            "simulate", "--socket", agent.SocketPath, "--port", $"{agent.TlsPort}", "--devices", "4", "--kinds", "cpap,bipap,oxy,ecg",
            "--rate", "0", "--count", "25", "--alarm-ratio", "0.2", "--json");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        Assert.StartsWith(
            $"Simulating 4 devices (cpap 1, bipap 1, oxygen 1, ecg 1) against mqtts://127.0.0.1:{agent.TlsPort} (MQTT 5), as fast as acknowledged, 25 readings per device.",
            result.Error,
            StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(4, summary.RootElement.GetProperty("devices").GetInt32());
        Assert.Equal(100, summary.RootElement.GetProperty("acknowledged").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("refused").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("unacknowledged").GetInt64());

        // The agent validated and journaled every reading, alarms included, and sorted the alarms into the urgent lane.
        var status = await AgentCommandTests.StatusAsync(agent);
        Assert.Equal(100, status.Ingest.Accepted);
        Assert.Equal(0, status.Ingest.Refused);
        Assert.Equal(0, status.DeadLetters);
        Assert.Equal(100, status.Journal.LastSequence);
        Assert.Equal(100, status.Journal.Lanes.Sum(l => l.Entries));
        Assert.InRange(status.Journal.Lanes.Single(l => l.Lane == "urgent").Entries, 1, 99);
    }

    [Fact]
    public async Task Devices_are_provisioned_through_the_admin_socket_and_reprovisioned_on_the_next_run()
    {
        await using var agent = await InProcessAgent.StartAsync();
        string[] args = ["simulate", "--socket", agent.SocketPath, "--port", $"{agent.TlsPort}", "--devices", "2", "--rate", "0", "--count", "5"];

        var first = await InProcessCli.RunAsync(args);
        var afterFirst = await AgentCommandTests.ListDevicesAsync(agent);
        var second = await InProcessCli.RunAsync(args);
        var afterSecond = await AgentCommandTests.ListDevicesAsync(agent);

        Assert.True(first.ExitCode == ExitCodes.Ok, first.Error);
        Assert.True(second.ExitCode == ExitCodes.Ok, second.Error);
        Assert.Contains("acknowledged    10", first.Output, StringComparison.Ordinal);
        Assert.Contains("acknowledged    10", second.Output, StringComparison.Ordinal);
        Assert.Equal(["CPAP-9000-0001", "OXY-9000-0002"], afterFirst.Select(d => d.Serial).Order(StringComparer.Ordinal));
        Assert.All(afterFirst, d => Assert.Null(d.RotatedAt));
        Assert.All(afterFirst, d => Assert.Equal("simulator", d.Origin));
        // The second run found the serials taken (409) and rotated them to learn a usable secret.
        Assert.All(afterSecond, d => Assert.NotNull(d.RotatedAt));
        Assert.Equal(20, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
    }

    [Fact]
    public async Task A_serial_registered_by_device_add_is_refused_and_its_secret_keeps_working()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var realSecret = await AgentCommandTests.AddDeviceAsync(agent, "OXY-9000-0002");

        var result = await InProcessCli.RunAsync(
            "simulate", "--socket", agent.SocketPath, "--port", $"{agent.Port}", "--devices", "3", "--rate", "0", "--count", "2");

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("OXY-9000-0002", result.Error, StringComparison.Ordinal);
        Assert.Contains("not created by edgectl simulate", result.Error, StringComparison.Ordinal);
        Assert.Contains("--serial-base", result.Error, StringComparison.Ordinal);
        // Nothing was provisioned, nothing rotated: the real device's credential is as it was and it still connects.
        var devices = await AgentCommandTests.ListDevicesAsync(agent);
        var real = Assert.Single(devices);
        Assert.Null(real.RotatedAt);
        Assert.Equal("operator", real.Origin);
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.Success, await Edge.Testing.Mqtt.TestDevice.CheckLoginAsync(agent.Port, "OXY-9000-0002", realSecret));
        Assert.Equal(0, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
    }

    [Fact]
    public async Task A_credentials_file_supplies_the_secrets()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secrets = new Dictionary<string, string>
        {
            ["ECG-0042-0001"] = await AgentCommandTests.AddDeviceAsync(agent, "ECG-0042-0001"),
            ["ECG-0042-0002"] = await AgentCommandTests.AddDeviceAsync(agent, "ECG-0042-0002"),
        };
        using var directory = new TempDirectory();
        var file = directory.File("secrets.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(secrets));

        var result = await InProcessCli.RunAsync(
            "simulate", "--credentials", file, "--ca", agent.DeviceCaPath, "--port", $"{agent.TlsPort}", "--kinds", "ecg", "--serial-base", "42", "--devices", "2",
            "--rate", "0", "--count", "3", "--protocol", "311");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        Assert.Contains("(MQTT 3.1.1)", result.Output, StringComparison.Ordinal);
        Assert.Equal(6, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
    }

    [Fact]
    public async Task A_device_the_agent_refuses_at_connect_makes_the_run_a_partial_failure()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secrets = new Dictionary<string, string>
        {
            ["CPAP-9000-0001"] = await AgentCommandTests.AddDeviceAsync(agent, "CPAP-9000-0001"),
            ["OXY-9000-0002"] = "not the secret",
        };
        using var directory = new TempDirectory();
        var file = directory.File("secrets.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(secrets));

        var result = await InProcessCli.RunAsync(
            "simulate", "--credentials", file, "--ca", agent.DeviceCaPath, "--port", $"{agent.TlsPort}", "--devices", "2", "--rate", "0", "--count", "4", "--json");

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("edgectl: the run finished in part: 1 device(s) refused at connect (BadUserNameOrPassword 1).", result.Error, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(result.Output);
        Assert.Equal(4, summary.RootElement.GetProperty("acknowledged").GetInt64());
        Assert.Equal(1, summary.RootElement.GetProperty("devicesNeverConnected").GetInt32());
        Assert.Equal(4, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
    }

    [Fact]
    public async Task A_credentials_file_without_a_simulated_serial_is_a_usage_error_naming_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """{ "CPAP-9000-0001": "x" }""");

            var result = await InProcessCli.RunAsync("simulate", "--credentials", file, "--plain", "--devices", "2", "--count", "1");

            Assert.Equal(ExitCodes.Usage, result.ExitCode);
            Assert.Contains("OXY-9000-0002", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Refused_readings_make_the_run_a_partial_failure()
    {
        await using var broker = await InProcessBroker.StartAsync(onPublish: args =>
        {
            args.ProcessPublish = false;
            args.Response.ReasonCode = MqttPubAckReasonCode.TopicNameInvalid;
        });

        var result = await InProcessCli.RunAsync("simulate", "--plain", "--port", $"{broker.Port}", "--anonymous", "--rate", "0", "--count", "2");

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("2 reading(s) refused (TopicNameInvalid 2)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_admin_socket_the_message_says_how_to_do_without_it()
    {
        var result = await InProcessCli.RunAsync("simulate", "--socket", "/nonexistent/edge-agent/admin.sock", "--count", "1");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("cannot reach the agent at /nonexistent/edge-agent/admin.sock", result.Error, StringComparison.Ordinal);
        Assert.Contains("--credentials FILE or --anonymous", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_over_plain_mqtt_reaches_a_plain_listener_the_operator_turned_on()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secrets = new Dictionary<string, string> { ["CPAP-9000-0001"] = await AgentCommandTests.AddDeviceAsync(agent, "CPAP-9000-0001") };
        using var directory = new TempDirectory();
        var file = directory.File("secrets.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(secrets));

        var result = await InProcessCli.RunAsync("simulate", "--credentials", file, "--plain", "--port", $"{agent.Port}", "--rate", "0", "--count", "3");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        Assert.Contains($"mqtt://127.0.0.1:{agent.Port}", result.Error, StringComparison.Ordinal);
        Assert.Equal(3, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
    }

    [Fact]
    public async Task The_simulator_refuses_a_broker_whose_certificate_does_not_chain_to_the_given_ca()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secrets = new Dictionary<string, string> { ["CPAP-9000-0001"] = await AgentCommandTests.AddDeviceAsync(agent, "CPAP-9000-0001") };
        using var directory = new TempDirectory();
        var file = directory.File("secrets.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(secrets));
        using var other = new DevelopmentCa(directory.File("other-ca"), "Someone else's CA");

        var result = await InProcessCli.RunAsync(
            "simulate", "--credentials", file, "--ca", other.CaPath, "--port", $"{agent.TlsPort}", "--rate", "0", "--count", "1", "--json");

        Assert.NotEqual(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("cannot connect", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await AgentCommandTests.StatusAsync(agent)).Ingest.Accepted);
        Assert.Equal(0, (await AgentCommandTests.StatusAsync(agent)).DevicesConnected);
    }

    [Fact]
    public async Task Credentials_from_a_file_without_a_ca_or_plain_are_a_usage_error_naming_ca()
    {
        var result = await InProcessCli.RunAsync("simulate", "--anonymous", "--count", "1");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--ca FILE", result.Error, StringComparison.Ordinal);
    }
}
