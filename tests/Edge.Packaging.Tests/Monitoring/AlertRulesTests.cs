using Edge.Testing;

namespace Edge.Packaging.Tests.Monitoring;

/// <summary>
/// The Prometheus alert rules shipped for gateways (installers/linux/prometheus/edge-agent-alerts.yml, in the package)
/// and for the cloud (installers/cloud/prometheus/edge-cloud-alerts.yml), checked by Prometheus's own promtool: they
/// load, and each alert fires on the series the processes report when it should (tests/prometheus/*.test.yml).
/// ./test.sh unpacks promtool into tools/promtool/.
/// </summary>
public sealed class AlertRulesTests
{
    [Theory]
    [InlineData("linux", "edge-agent-alerts.yml", 11)]
    [InlineData("cloud", "edge-cloud-alerts.yml", 11)]
    public async Task The_rules_load_in_prometheus(string folder, string file, int rules)
    {
        var output = await PromtoolAsync("check", "rules", RepositoryPaths.File("installers", folder, "prometheus", file));

        Assert.Contains($"SUCCESS: {rules} rules found", output, StringComparison.Ordinal);
    }

    // Gateway alerts carry the gateway id joined from edge_agent_info; the unit tests check that too.
    [Theory]
    [InlineData("edge-agent-alerts.test.yml")]
    [InlineData("edge-cloud-alerts.test.yml")]
    public async Task Each_alert_fires_when_it_should_and_not_before(string tests)
    {
        var output = await PromtoolAsync("test", "rules", RepositoryPaths.File("tests", "prometheus", tests));

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
