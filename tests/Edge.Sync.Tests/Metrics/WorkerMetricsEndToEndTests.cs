using System.Net;
using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.Sync.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Edge.Sync.Tests.Metrics;

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
        var devices = await EndToEndTests.ProvisionAsync(agent, 6);
        var result = await EndToEndTests.Generator(agent.Port, devices, readingsPerDevice: 10).RunAsync();
        Assert.Equal(60, result.Acknowledged);
        await EndToEndTests.WaitForDrainAsync(agent);

        // The last batch is counted just after its ack goes out, so the drain can be seen a moment before the count.
        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_readings_total", "result=\"stored\"") == 60,
            TimeSpan.FromSeconds(30), "60 readings counted as stored");
        var after = await metrics.ScrapeAsync();
        foreach (var kind in new[] { "cpap", "oxygen", "ecg" })
        {
            Assert.Equal(20, MetricsEndpoint.Value(after, "edge_worker_readings_total", $"kind=\"{kind}\"", "result=\"stored\""));
        }

        Assert.Equal(0, MetricsEndpoint.Value(after, "edge_worker_readings_total", "result=\"rejected\""));
        Assert.Equal(60, MetricsEndpoint.Value(after, "edge_worker_reading_delay_seconds_count"));
        Assert.Equal(60, MetricsEndpoint.Value(after, "edge_worker_reading_delay_seconds_bucket", "le=\"+Inf\""));
        var batches = MetricsEndpoint.Value(after, "edge_worker_batches_total");
        Assert.InRange(batches!.Value, 1, 60);
        Assert.Equal(batches, MetricsEndpoint.Value(after, "edge_worker_batch_duration_milliseconds_count"));

        // A gateway that sends something unreadable: dead-lettered, counted, and the worker goes on.
        using (var gateway = await ConnectGatewayAsync(cloud, InProcessAgent.DefaultGatewayId))
        {
            await gateway.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.Telemetry(InProcessAgent.DefaultGatewayId))
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

    private static async Task<IMqttClient> ConnectGatewayAsync(LocalCloud cloud, string gatewayId)
    {
        var (certificate, key) = cloud.Broker.Ca.IssueClient(gatewayId);
        var trusted = PemTls.LoadBundle(cloud.Broker.Ca.CaPath);
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", cloud.Broker.Port)
            .WithClientId(gatewayId + "-test")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost")
                .WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey(certificate, key)))
                .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted)))
            .Build());
        return client;
    }
}
