using System.Diagnostics;
using Edge.Agent.Hosting;
using Edge.Hosting;
using Edge.Testing;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Tests.Hosting;

/// <summary>A settings mistake ends the agent process with 78 (EX_CONFIG) and the setting's name, not an abort (134).</summary>
public sealed class ConfigurationExitTests
{
    [Theory]
    [InlineData("Agent__Broker__Port", "70000", "Agent:Broker:Port")]
    [InlineData("Agent__GatewayId", "has spaces", "Agent:GatewayId")]
    [InlineData("Agent__Journal__MinCommitIntervalMs", "5000", "Agent:Journal:MinCommitIntervalMs")]
    [InlineData("Agent__Admin__SocketMode", "0666", "Agent:Admin:SocketMode")]
    [InlineData("Agent__Admin__SocketGroup", "no-such-group-here", "Agent:Admin:SocketGroup")]
    [InlineData("Agent__Journal__EncryptionKeyCredential", "journal-key", "Agent:Journal:EncryptionKeyCredential")]
    [InlineData("Agent__Broker__MaxPayloadBytes", "200000", "Agent:Broker:MaxPayloadBytes does not fit in Agent:Uplink:MaxBatchBytes")]
    [InlineData("Agent__Uplink__BytesPerSecond", "100000", "Agent:Uplink:MaxBatchBytes is above Agent:Uplink:BytesPerSecond")]
    [InlineData("Agent__Broker__Tls__Port", "70000", "Agent:Broker:Tls:Port must be between 1 and 65535")]
    public async Task A_misconfigured_agent_process_exits_78_and_names_the_setting_on_stderr(string variable, string value, string setting)
    {
        using var state = new TempDirectory();
        // The build output's agent, started as systemd starts it: settings from the environment, nothing on the command line.
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = state.Path,
        };
        info.Environment["EDGE_AGENT_CONFIG"] = state.File("agent.json");
        info.Environment["Agent__GatewayId"] = "gw-test";
        info.Environment["Agent__StateDirectory"] = state.Path;
        info.Environment["Agent__RuntimeDirectory"] = state.Path;
        info.Environment["Agent__Broker__BindAddress"] = "127.0.0.1";
        info.Environment["Agent__Broker__Port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment[variable] = value;

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ConfigurationExit.ExitCode, process.ExitCode);
        var error = await stderr;
        Assert.Contains($"edge-agent: configuration error: {setting}", error);
        Assert.DoesNotContain("Unhandled exception", error + await stdout);
    }

    [Fact]
    public void Several_invalid_sections_at_once_are_all_reported()
    {
        var error = new AggregateException(
            new OptionsValidationException("Agent", typeof(object), ["Agent:GatewayId is required."]),
            new OptionsValidationException("Agent:Broker", typeof(object), ["Agent:Broker:Port must be between 0 (off) and 65535."]));

        Assert.True(ConfigurationExit.TryGetFailures(error, out var failures));
        Assert.Equal(["Agent:GatewayId is required.", "Agent:Broker:Port must be between 0 (off) and 65535."], failures);
        using var text = new StringWriter();
        Assert.Equal(78, ConfigurationExit.Report("edge-agent", failures, text));
        Assert.Contains("edge-agent: configuration error: Agent:Broker:Port", text.ToString());
    }

    [Fact]
    public void A_data_annotation_failure_is_reported_as_the_message_that_names_the_setting()
    {
        var error = new OptionsValidationException("Agent", typeof(object),
            ["DataAnnotation validation failed for 'AgentOptions' members: 'GatewayId' with the error: 'Agent:GatewayId is required.'."]);

        Assert.True(ConfigurationExit.TryGetFailures(error, out var failures));
        Assert.Equal("Agent:GatewayId is required.", Assert.Single(failures));
    }

    [Theory]
    [InlineData("GatewayId: Agent:GatewayId is required.", "Agent:GatewayId is required.")]
    [InlineData("Tls.Port: Agent:Broker:Tls:Port must be between 1 and 65535.", "Agent:Broker:Tls:Port must be between 1 and 65535.")]
    [InlineData("Agent:Journal:MinCommitIntervalMs must be at most 1000.", "Agent:Journal:MinCommitIntervalMs must be at most 1000.")]
    public void A_generated_validator_failure_loses_its_member_prefix_but_never_the_setting_name(string failure, string expected)
    {
        var error = new OptionsValidationException("Agent", typeof(object), [failure]);

        Assert.True(ConfigurationExit.TryGetFailures(error, out var failures));
        Assert.Equal(expected, Assert.Single(failures));
    }

    [Fact]
    public void Other_start_failures_are_not_reported_as_configuration_errors()
    {
        Assert.False(ConfigurationExit.TryGetFailures(new IOException("disk"), out _));
        Assert.False(ConfigurationExit.TryGetFailures(
            new AggregateException(new OptionsValidationException("Agent", typeof(object), ["x"]), new IOException("disk")), out _));
    }
}
