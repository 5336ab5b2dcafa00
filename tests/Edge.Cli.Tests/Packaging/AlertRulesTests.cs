namespace Edge.Cli.Tests.Packaging;

/// <summary>
/// The Prometheus alert rules shipped for gateways (installers/linux/prometheus/edge-agent-alerts.yml, in the package)
/// and for the cloud (installers/cloud/prometheus/edge-cloud-alerts.yml), checked by Prometheus's own promtool: they
/// load, and each alert fires on the series the processes report when it should (tests/prometheus/*.test.yml).
/// ./test.sh unpacks promtool into tools/promtool/.
/// </summary>
public sealed class AlertRulesTests
{
    static readonly string Rules = RepositoryPaths.File("installers", "linux", "prometheus", "edge-agent-alerts.yml");
    static readonly string CloudRules = RepositoryPaths.File("installers", "cloud", "prometheus", "edge-cloud-alerts.yml");

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

    [Fact]
    public async Task The_cloud_rules_load_in_prometheus()
    {
        var output = await PromtoolAsync("check", "rules", CloudRules);

        Assert.Contains("SUCCESS: 10 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_cloud_alert_fires_when_it_should_and_not_before()
    {
        var output = await PromtoolAsync("test", "rules", RepositoryPaths.File("tests", "prometheus", "edge-cloud-alerts.test.yml"));

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
