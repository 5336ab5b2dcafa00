using System.Text.Json;
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
        var result = await InProcessCli.RunAsync("simulate", option, value, "--anonymous");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith($"edgectl: {option}", result.Error, StringComparison.Ordinal);
        Assert.Contains("edgectl simulate --help", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("--duration", "10s", "--count", "5")]
    [InlineData("--anonymous", "--credentials", "secrets.json")]
    [InlineData("--socket", "/tmp/admin.sock", "--anonymous")]
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
            "simulate", "--port", $"{broker.Port}", "--devices", "3", "--rate", "0", "--count", "10", "--anonymous", "--json");

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
    public async Task Devices_are_provisioned_through_the_admin_socket_and_reprovisioned_on_the_next_run()
    {
        await using var admin = await FakeAgentAdmin.StartAsync();
        await using var broker = await InProcessBroker.StartAsync(onConnect: args =>
            args.ReasonCode = admin.Secrets.TryGetValue(args.ClientId, out var secret) && args.UserName == args.ClientId && args.Password == secret
                ? MqttConnectReasonCode.Success
                : MqttConnectReasonCode.BadUserNameOrPassword);
        string[] args = ["simulate", "--socket", admin.SocketPath, "--port", $"{broker.Port}", "--devices", "2", "--rate", "0", "--count", "5"];

        var first = await InProcessCli.RunAsync(args);
        var second = await InProcessCli.RunAsync(args);

        Assert.Equal(ExitCodes.Ok, first.ExitCode);
        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Contains("acknowledged    10", first.Output, StringComparison.Ordinal);
        // The second run found the serials taken (409) and rotated them to learn a usable secret.
        Assert.Equal(2, admin.Requests.Count(r => r == "POST /v1/devices/CPAP-9000-0001/rotate" || r == "POST /v1/devices/OXY-9000-0002/rotate"));
        Assert.Equal(20, broker.Received.Count);
    }

    [Fact]
    public async Task A_credentials_file_supplies_the_secrets()
    {
        await using var broker = await InProcessBroker.StartAsync(onConnect: args =>
            args.ReasonCode = args.Password == $"secret-of-{args.ClientId}" ? MqttConnectReasonCode.Success : MqttConnectReasonCode.BadUserNameOrPassword);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """{ "ECG-0042-0001": "secret-of-ECG-0042-0001", "ECG-0042-0002": "secret-of-ECG-0042-0002" }""");

            var result = await InProcessCli.RunAsync(
                "simulate", "--credentials", file, "--port", $"{broker.Port}", "--kinds", "ecg", "--serial-base", "42", "--devices", "2", "--rate", "0", "--count", "3");

            Assert.Equal(ExitCodes.Ok, result.ExitCode);
            Assert.Equal(6, broker.Received.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_credentials_file_without_a_simulated_serial_is_a_usage_error_naming_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """{ "CPAP-9000-0001": "x" }""");

            var result = await InProcessCli.RunAsync("simulate", "--credentials", file, "--devices", "2", "--count", "1");

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

        var result = await InProcessCli.RunAsync("simulate", "--port", $"{broker.Port}", "--anonymous", "--rate", "0", "--count", "2");

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
}
