using System.Text.Json;
using Edge.Testing.Metrics;

using Edge.Testing;

namespace Edge.Packaging.Tests.Monitoring;

/// <summary>
/// The Grafana dashboard (installers/grafana/clinic-edge-dashboard.json): every query is PromQL that Prometheus's own
/// parser accepts, and every metric it reads is one the agent, the workers or the API document (the docs tests check
/// that documented means exported).
/// </summary>
public sealed class DashboardTests
{
    static readonly string Dashboard = RepositoryPaths.File("installers", "grafana", "clinic-edge-dashboard.json");

    [Fact]
    public async Task Every_query_parses_as_promql()
    {
        var expressions = Queries();
        Assert.True(expressions.Count >= 15, $"only {expressions.Count} queries");

        // promtool parses rule expressions; each query, with Grafana's variables filled in, becomes a recording rule.
        var rules = Path.Combine(Directory.CreateTempSubdirectory("edge-dashboard-").FullName, "dashboard-rules.yml");
        var lines = new List<string> { "groups:", "  - name: dashboard", "    rules:" };
        for (var i = 0; i < expressions.Count; i++)
        {
            var expression = expressions[i].Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$gateway", ".*", StringComparison.Ordinal);
            lines.Add($"      - record: dashboard:query{i}");
            lines.Add($"        expr: {JsonSerializer.Serialize(expression)}");
        }

        await File.WriteAllLinesAsync(rules, lines);
        var promtool = RepositoryPaths.File("tools", "promtool", "promtool");
        Assert.True(File.Exists(promtool), $"{promtool} is missing: ./test.sh unpacks it (scripts/lib.sh, ensure_promtool)");
        var (output, error) = await ExternalCommand.RunAsync(promtool, TimeSpan.FromMinutes(2), "check", "rules", rules);

        Assert.Contains($"SUCCESS: {expressions.Count} rules found", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_metric_it_reads_is_documented_and_every_panel_says_what_it_shows()
    {
        var documented = File.ReadAllText(RepositoryPaths.File("docs", "operations.md")) + File.ReadAllText(RepositoryPaths.File("docs", "runbooks", "monitoring.md"));
        var read = Queries()
            .SelectMany(q => MetricsEndpoint.MetricNames(q, "(edge|http_server)_"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(read);
        Assert.All(read, metric => Assert.True(documented.Contains($"`{metric}", StringComparison.Ordinal), $"{metric} is not in operations.md or runbooks/monitoring.md"));

        using var dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row"))
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("description").GetString()), $"panel '{title}' has no description");
            Assert.NotEqual(0, panel.GetProperty("targets").GetArrayLength());
        }
    }

    static List<string> Queries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .ToList();
    }
}
