namespace Edge.Cli.Tests.Packaging;

/// <summary>
/// The Prometheus alert rules the package ships (installers/linux/prometheus/edge-agent-alerts.yml), checked by
/// Prometheus's own promtool: they load, and each alert fires on the series a gateway reports when it should
/// (tests/prometheus/edge-agent-alerts.test.yml). ./test.sh unpacks promtool into tools/promtool/.
/// </summary>
public sealed class AlertRulesTests
{
    static readonly string Rules = RepositoryPaths.File("installers", "linux", "prometheus", "edge-agent-alerts.yml");

    [Fact]
    public async Task The_rules_load_in_prometheus()
    {
        var output = await PromtoolAsync("check", "rules", Rules);

        Assert.Contains("SUCCESS: 7 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_alert_fires_when_it_should_with_the_gateway_id_and_not_before()
    {
        var output = await PromtoolAsync("test", "rules", RepositoryPaths.File("tests", "prometheus", "edge-agent-alerts.test.yml"));

        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    static async Task<string> PromtoolAsync(params string[] args)
    {
        var promtool = RepositoryPaths.File("tools", "promtool", "promtool");
        Assert.True(File.Exists(promtool), $"{promtool} is missing: ./test.sh unpacks it (scripts/lib.sh, ensure_promtool)");
        var (output, error) = await ExternalCommand.RunAsync(promtool, TimeSpan.FromMinutes(2), args);
        return output + error;
    }
}
