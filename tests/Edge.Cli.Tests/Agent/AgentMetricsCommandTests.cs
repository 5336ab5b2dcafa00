using Edge.Cli.Simulate;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Edge.Testing.Metrics;
using MQTTnet;

namespace Edge.Cli.Tests.Agent;

/// <summary>
/// <c>edgectl agent metrics</c> against the real agent: the Prometheus text of what it took in, what waits in its
/// journal and who is connected, printed or written to a file for node_exporter's textfile collector.
/// </summary>
public sealed class AgentMetricsCommandTests
{
    static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);

    [Fact]
    public async Task Metrics_count_what_the_agent_took_in_and_what_waits_in_its_journal()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:GatewayId=gw-clinic-042");
        const string serial = "OXY-8844-5521";
        await using var device = await TestDevice.ConnectAsync(agent.Port, serial, await AgentCommandTests.AddDeviceAsync(agent, serial));
        using var readings = new ReadingGenerator(SerialNumber.Parse(serial), seed: 1, alarmRatio: 0);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(MqttClientPublishReasonCode.Success, (await device.PublishAsync(DeviceTopics.Telemetry(serial), readings.Next(Start.AddSeconds(i)).ToArray())).ReasonCode);
        }

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, (await device.PublishAsync(DeviceTopics.Telemetry(serial), "not json"u8.ToArray())).ReasonCode);
        await Eventually.TrueAsync(async () => (await AgentCommandTests.StatusAsync(agent)).DevicesConnected == 1, TimeSpan.FromSeconds(30), "the agent to count the device as connected");

        var result = await InProcessCli.RunAsync("agent", "metrics", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Empty(result.Error);
        var lines = result.Output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("edge_agent_info{gateway_id=\"gw-clinic-042\",version=\"", StringComparison.Ordinal) && l.EndsWith("\"} 1", StringComparison.Ordinal));
        Assert.Contains("edge_broker_connected_devices 1", lines);
        Assert.Contains("edge_ingest_accepted_total 3", lines);
        Assert.Contains("edge_ingest_refused_total{reason=\"PayloadFormatInvalid\"} 1", lines);
        Assert.Contains("edge_ingest_journal_latency_milliseconds_count 3", lines);
        Assert.Contains("edge_journal_entries{lane=\"routine\"} 3", lines);
        Assert.Contains("edge_journal_entries{lane=\"urgent\"} 0", lines);
        Assert.Contains("edge_journal_dead_letters 1", lines);
        Assert.Contains(lines, l => l.StartsWith("edge_journal_oldest_age_seconds{lane=\"routine\"} ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("edge_journal_oldest_age_seconds{lane=\"urgent\"}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("edge_journal_group_size_count ", StringComparison.Ordinal) && long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains(lines, l => l.StartsWith("dotnet_process_memory_working_set_bytes ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refusal_codes_and_the_quota_shed_read_zero_before_the_first_so_an_alert_sees_the_first_one()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var lines = (await InProcessCli.RunAsync("agent", "metrics", "--socket", agent.SocketPath)).Output.Split('\n');

        foreach (var code in new[] { "NotAuthorized", "TopicNameInvalid", "PayloadFormatInvalid", "QuotaExceeded", "ImplementationSpecificError" })
        {
            Assert.Contains($"edge_ingest_refused_total{{reason=\"{code}\"}} 0", lines);
        }

        Assert.Contains("edge_journal_shed_total{reason=\"quota\"} 0", lines);
        Assert.Contains("edge_ingest_accepted_total 0", lines);
    }

    [Fact]
    public async Task Two_agents_in_one_process_each_report_their_own_counts()
    {
        await using var first = await InProcessAgent.StartAsync();
        await using var second = await InProcessAgent.StartAsync();
        const string serial = "CPAP-2301-9912";
        await using var device = await TestDevice.ConnectAsync(first.Port, serial, await AgentCommandTests.AddDeviceAsync(first, serial));
        using var readings = new ReadingGenerator(SerialNumber.Parse(serial), seed: 1, alarmRatio: 0);
        Assert.Equal(MqttClientPublishReasonCode.Success, (await device.PublishAsync(DeviceTopics.Telemetry(serial), readings.Next(Start).ToArray())).ReasonCode);

        var firstMetrics = await InProcessCli.RunAsync("agent", "metrics", "--socket", first.SocketPath);
        var secondMetrics = await InProcessCli.RunAsync("agent", "metrics", "--socket", second.SocketPath);

        Assert.Equal(["edge_ingest_accepted_total 1"], Samples(firstMetrics.Output, "edge_ingest_accepted_total"));
        Assert.Equal(["edge_ingest_accepted_total 0"], Samples(secondMetrics.Output, "edge_ingest_accepted_total"));
        Assert.Equal(["edge_broker_connected_devices 0"], Samples(secondMetrics.Output, "edge_broker_connected_devices"));
    }

    [Fact]
    public async Task Every_agent_metric_is_in_the_operations_guide_and_every_one_it_names_exists()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var result = await InProcessCli.RunAsync("agent", "metrics", "--socket", agent.SocketPath);
        var exported = result.Output.Split('\n')
            .Where(l => l.StartsWith("# TYPE edge_", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[2])
            .ToHashSet(StringComparer.Ordinal);

        // The guide's Metrics section: the table and the alert expressions.
        var guide = File.ReadAllText(RepositoryPaths.File("docs", "operations.md"));
        var section = guide[guide.IndexOf("\n## Metrics\n", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 1, StringComparison.Ordinal)];
        var named = MetricsEndpoint.MetricNames(section, "edge_");

        Assert.NotEmpty(exported);
        Assert.Empty(exported.Except(named).Order(StringComparer.Ordinal)); // exported but not documented
        Assert.Empty(named.Except(exported).Order(StringComparer.Ordinal)); // documented but not exported

        // The alert rules the package ships name only metrics the agent exports.
        var rules = File.ReadAllText(RepositoryPaths.File("installers", "linux", "prometheus", "edge-agent-alerts.yml"));
        var inRules = MetricsEndpoint.MetricNames(rules, "edge_");
        Assert.NotEmpty(inRules);
        Assert.Empty(inRules.Except(exported).Order(StringComparer.Ordinal));
    }

    static string[] Samples(string text, string metric) =>
        [.. text.Split('\n').Where(l => l.StartsWith(metric + " ", StringComparison.Ordinal) || l.StartsWith(metric + "{", StringComparison.Ordinal))];

    [Fact]
    public async Task Output_replaces_the_file_atomically_readable_by_a_collector_that_runs_as_another_user()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var directory = Directory.CreateTempSubdirectory("edgectl-metrics-").FullName;
        try
        {
            var path = Path.Combine(directory, "edge-agent.prom");
            await File.WriteAllTextAsync(path, "stale\n");

            var result = await InProcessCli.RunAsync("agent", "metrics", "--output", path, "--socket", agent.SocketPath);

            Assert.Equal(ExitCodes.Ok, result.ExitCode);
            Assert.Empty(result.Output);
            var text = await File.ReadAllTextAsync(path);
            Assert.Contains("# TYPE edge_ingest_accepted_total counter\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain("stale", text, StringComparison.Ordinal);
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                File.GetUnixFileMode(path));
            Assert.Equal(["edge-agent.prom"], Directory.GetFiles(directory).Select(Path.GetFileName)); // no temporary file left
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Output_to_a_missing_directory_names_the_path_and_fails()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await InProcessCli.RunAsync("agent", "metrics", "--output", "/nonexistent/metrics/edge-agent.prom", "--socket", agent.SocketPath);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith("edgectl: cannot write the metrics to /nonexistent/metrics/edge-agent.prom: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_against_a_missing_socket_say_the_agent_cannot_be_reached()
    {
        var result = await InProcessCli.RunAsync("agent", "metrics", "--socket", "/nonexistent/edge-agent/admin.sock");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("cannot reach the agent at /nonexistent/edge-agent/admin.sock", result.Error, StringComparison.Ordinal);
    }
}
