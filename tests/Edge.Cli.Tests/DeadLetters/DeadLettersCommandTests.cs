using System.Text.Json;
using Edge.Cli.Tests.Agent;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Admin;
using Edge.Contracts.Topics;
using MQTTnet;

namespace Edge.Cli.Tests.DeadLetters;

/// <summary><c>edgectl deadletters list</c> against the real agent, fed garbage by a real MQTT client.</summary>
public sealed class DeadLettersCommandTests
{
    const string Serial = "OXY-8844-5521";

    [Fact]
    public async Task Garbage_a_device_published_is_listed_as_a_dead_letter_with_the_agents_reason()
    {
        await using var agent = await InProcessAgent.StartAsync();
        await using (var device = await TestDevice.ConnectAsync(agent.Port, Serial, await AgentCommandTests.AddDeviceAsync(agent, Serial)))
        {
            var refused = await device.PublishAsync(DeviceTopics.Telemetry(Serial), "not json"u8.ToArray());
            Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, refused.ReasonCode);
        }

        var table = await InProcessCli.RunAsync("deadletters", "list", "--socket", agent.SocketPath);
        var json = await InProcessCli.RunAsync("deadletters", "list", "--json", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        var lines = table.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches("^TIME +CLIENT +TOPIC +CODE +REASON$", lines[0]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  OXY-8844-5521  devices/OXY-8844-5521/telemetry  PayloadFormatInvalid  \S", lines[1]);

        Assert.Equal(ExitCodes.Ok, json.ExitCode);
        var letter = Assert.Single(JsonSerializer.Deserialize(json.Output, AdminJsonContext.Default.DeadLetterInfoArray)!);
        Assert.Equal(Serial, letter.ClientId);
        Assert.Equal(DeviceTopics.Telemetry(Serial), letter.Topic);
        Assert.Equal("PayloadFormatInvalid", letter.ReasonCode);
        Assert.False(string.IsNullOrWhiteSpace(letter.Reason));
        Assert.Equal(8, letter.PayloadBytes);
        Assert.Equal("not json", letter.PayloadPreview);
        Assert.Contains(letter.Reason, lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_limit_keeps_the_newest_dead_letters_first()
    {
        await using var agent = await InProcessAgent.StartAsync();
        await using (var device = await TestDevice.ConnectAsync(agent.Port, Serial, await AgentCommandTests.AddDeviceAsync(agent, Serial)))
        {
            foreach (var garbage in new[] { "first", "second", "third" })
            {
                Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, (await device.PublishAsync(DeviceTopics.Telemetry(Serial), System.Text.Encoding.UTF8.GetBytes(garbage))).ReasonCode);
            }

            // A device may publish only under its own tree: the wrong serial in the topic is refused and kept as well.
            var foreign = await device.PublishAsync(DeviceTopics.Telemetry("ECG-7711-0045"), "{}"u8.ToArray());
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, foreign.ReasonCode);
        }

        // The agent keeps a dead letter in the background after its refusal: wait until all four are kept.
        await Eventually.TrueAsync(() => agent.Journal.ListDeadLetters(10).Count == 4, TimeSpan.FromSeconds(10), "the four dead letters");
        var result = await InProcessCli.RunAsync("deadletters", "list", "--limit", "2", "--json", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var letters = JsonSerializer.Deserialize(result.Output, AdminJsonContext.Default.DeadLetterInfoArray)!;
        Assert.Equal(["NotAuthorized", "PayloadFormatInvalid"], letters.Select(l => l.ReasonCode));
        Assert.Equal(["devices/ECG-7711-0045/telemetry", "devices/OXY-8844-5521/telemetry"], letters.Select(l => l.Topic));
        Assert.Equal("third", letters[1].PayloadPreview);
    }

    [Fact]
    public async Task An_agent_without_dead_letters_says_so()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("deadletters", "list", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal("No dead letters." + Environment.NewLine, result.Output);
    }

    [Fact]
    public async Task A_limit_out_of_range_is_a_usage_error()
    {
        var result = await InProcessCli.RunAsync("deadletters", "list", "--limit", "0", "--socket", "/nonexistent.sock");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("edgectl: --limit", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Against_a_missing_socket_the_agent_cannot_be_reached()
    {
        var result = await InProcessCli.RunAsync("deadletters", "list", "--socket", "/nonexistent/edge-agent/admin.sock");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.StartsWith("edgectl: cannot reach the agent at /nonexistent/edge-agent/admin.sock (No such file or directory).", result.Error, StringComparison.Ordinal);
    }
}
