using System.Net;
using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Metrics;

/// <summary>
/// The ingest worker's metrics listener, scraped as Prometheus scrapes it, while real readings flow devices → agent →
/// mosquitto → worker → PostgreSQL: the counts are the readings stored, and nothing is answered without the token.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class WorkerMetricsEndToEndTests(PostgresServer postgres)
{
    [Fact]
    public async Task The_worker_counts_what_it_stored_and_dead_lettered_by_kind()
    {
        using var metrics = new MetricsEndpoint();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-metrics", settings: metrics.Settings);

        // Before any batch: the series an alert watches are there at zero, and both connections are up.
        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_broker_connections") == 2,
            TimeSpan.FromSeconds(30), "both broker connections to be up");
        var before = await metrics.ScrapeAsync();
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_dead_letters_total"));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_readings_total", "kind=\"oxygen\"", "result=\"rejected\""));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_batches_total", "lane=\"urgent\""));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_webhook_attempts_total", "outcome=\"dead\""));
        Assert.Equal(0, MetricsEndpoint.Value(before, "edge_worker_store_failures_total"));
        Assert.Equal(1, MetricsEndpoint.Value(before, "edge_worker_info"));
        Assert.Contains("# TYPE edge_worker_reading_delay_seconds histogram", before);

        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        // Two of each kind, and a BiPAP machine, which writes to the CPAP store and so counts as cpap.
        var devices = await EndToEndTests.ProvisionAsync(cloud, agent, 6, "BIPAP-9200-0007");
        var result = await EndToEndTests.Generator(agent.Port, devices, readingsPerDevice: 10).RunAsync();
        Assert.Equal(70, result.Acknowledged);
        await EndToEndTests.WaitForDrainAsync(agent);

        // The last batch is counted just after its ack goes out, so the drain can be seen a moment before the count.
        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_readings_total", "result=\"stored\"") == 70,
            TimeSpan.FromSeconds(30), "70 readings counted as stored");
        var after = await metrics.ScrapeAsync();
        foreach (var (kind, count) in new[] { ("cpap", 30), ("oxygen", 20), ("ecg", 20) })
        {
            Assert.Equal(count, MetricsEndpoint.Value(after, "edge_worker_readings_total", $"kind=\"{kind}\"", "result=\"stored\""));
        }

        Assert.Null(MetricsEndpoint.Value(after, "edge_worker_readings_total", "kind=\"bipap\""));
        Assert.Equal(0, MetricsEndpoint.Value(after, "edge_worker_readings_total", "result=\"rejected\""));
        Assert.Equal(70, MetricsEndpoint.Value(after, "edge_worker_reading_delay_seconds_count"));
        Assert.Equal(70, MetricsEndpoint.Value(after, "edge_worker_reading_delay_seconds_bucket", "le=\"+Inf\""));
        var batches = MetricsEndpoint.Value(after, "edge_worker_batches_total");
        Assert.InRange(batches!.Value, 1, 70);
        Assert.Equal(batches, MetricsEndpoint.Value(after, "edge_worker_batch_duration_milliseconds_count"));

        // A gateway that sends something unreadable: dead-lettered, counted, and the worker goes on. (Another gateway:
        // the broker gives a certificate its own id as client id, so a second connection as the agent would end its session.)
        using (var gateway = await ConnectGatewayAsync(cloud, "gw-metrics-probe"))
        {
            await gateway.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.Telemetry("gw-metrics-probe"))
                .WithPayload("not a batch"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_dead_letters_total") == 1,
            TimeSpan.FromSeconds(30), "the unreadable batch to be counted");
    }

    [Fact]
    public async Task Nothing_is_answered_without_the_token_and_only_metrics_is_served()
    {
        using var metrics = new MetricsEndpoint();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-metrics-auth", settings: metrics.Settings);

        using var none = await metrics.SendAsync(HttpMethod.Get, metrics.Url, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer realm=\"metrics\"", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal("", await none.Content.ReadAsStringAsync());

        using var wrong = await metrics.SendAsync(HttpMethod.Get, metrics.Url, metrics.Token[..^1] + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var elsewhere = await metrics.SendAsync(HttpMethod.Get, new Uri(metrics.Url, "/healthz"), metrics.Token);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);

        using var post = await metrics.SendAsync(HttpMethod.Post, metrics.Url, metrics.Token);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);

        using var right = await metrics.SendAsync(HttpMethod.Get, metrics.Url, metrics.Token);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", right.Content.Headers.ContentType!.ToString());
        Assert.Contains("edge_worker_uptime_seconds ", await right.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_monitoring_runbook_lists_every_cloud_metric_and_the_alert_rules_name_only_exported_ones()
    {
        using var workerMetrics = new MetricsEndpoint();
        using var apiMetrics = new MetricsEndpoint();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-metrics-docs", settings: workerMetrics.Settings);
        await using var api = await InProcessApi.StartAsync(cloud.ConnectionString, apiMetrics.Arguments);
        using var client = api.As("admin");
        (await client.GetAsync("/v1/clinics")).EnsureSuccessStatusCode(); // so the request histogram has a series

        var exported = MetricsEndpoint.MetricNames(await workerMetrics.ScrapeAsync() + await apiMetrics.ScrapeAsync(), CloudPrefix);
        var runbook = await File.ReadAllTextAsync(RepositoryPaths.File("docs", "runbooks", "monitoring.md"));
        var tables = runbook[runbook.IndexOf("## What the workers report", StringComparison.Ordinal)..runbook.IndexOf("## Alerts", StringComparison.Ordinal)];
        var documented = MetricsEndpoint.MetricNames(tables, CloudPrefix);

        Assert.Empty(exported.Except(documented));
        Assert.Empty(documented.Except(exported));

        var rules = await File.ReadAllTextAsync(RepositoryPaths.File("installers", "cloud", "prometheus", "edge-cloud-alerts.yml"));
        var apiText = await apiMetrics.ScrapeAsync();
        var inRules = MetricsEndpoint.MetricNames(rules, CloudPrefix);
        Assert.NotEmpty(inRules);
        Assert.Empty(inRules.Except(exported));
        Assert.Contains("http_server_request_duration_seconds_count{", apiText);
        Assert.Contains("http_response_status_code=", apiText);
    }

    // The cloud processes' own metric names (ASP.NET Core's and the runtime's are not ours to document).
    private const string CloudPrefix = "edge_(worker|api)_";

    private static async Task<IMqttClient> ConnectGatewayAsync(LocalCloud cloud, string gatewayId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(cloud.Broker.GatewayClient(gatewayId, gatewayId + "-test").Build());
        return client;
    }
}
