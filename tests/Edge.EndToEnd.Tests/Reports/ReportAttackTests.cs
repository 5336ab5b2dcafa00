using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Contracts.Tls;
using Edge.Contracts.Topics;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Protocol;
using Xunit.Abstractions;
using static Edge.EndToEnd.Tests.Reports.ReportEndToEndTests;

namespace Edge.EndToEnd.Tests.Reports;

/// <summary>
/// Report PDFs attacked through the real broker, worker, s3rver and API: a gateway (or whoever holds its key) uploading
/// something that is not a PDF, a body other than the one it announced, a second PUT over a recorded report; a rogue
/// answer sending the agent's PDF elsewhere; and what a browser is told about a download.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class ReportAttackTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const string Gateway = InProcessAgent.DefaultGatewayId;

    [Fact]
    public async Task A_non_pdf_uploaded_through_a_presigned_url_is_refused_counted_and_not_recorded()
    {
        using var metrics = new MetricsEndpoint();
        await using var env = await ReportCloud.StartAsync(postgres, metrics.Settings);
        await using var gateway = await GatewayPeer.ConnectAsync(env.Cloud.Broker, Gateway);
        var html = Encoding.UTF8.GetBytes("<html><body><script>fetch('/v1/audit').then(r => r.text()).then(alert)</script></body></html>");

        var upload = await gateway.RequestUploadAsync("rpt_html", html, Sha256(html));
        Assert.Equal("upload", upload.GetProperty("type").GetString());
        using (var put = await PutAsync(upload.GetProperty("url").GetString()!, html, Sha256(html)))
        {
            output.WriteLine($"s3rver answered {(int)put.StatusCode} to a PUT of HTML signed as application/pdf");
        }

        var answer = await gateway.RecordAsync("rpt_html", html, Sha256(html), upload.GetProperty("key").GetString()!);

        Assert.Equal("rejected", answer.GetProperty("type").GetString());
        Assert.Contains("%PDF-", answer.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(answer.GetProperty("retry").GetBoolean());
        Assert.Equal(0, await env.RecordCountAsync("rpt_html"));
        Assert.Equal(1, MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_reports_refused_total", "reason=\"not_pdf\""));
    }

    [Fact]
    public async Task A_body_other_than_the_announced_sha256_is_refused_by_s3_or_the_worker_and_not_recorded()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        await using var gateway = await GatewayPeer.ConnectAsync(env.Cloud.Broker, Gateway);
        var announced = Pdf(50_000, seed: 11);
        var sent = Pdf(50_000, seed: 12);

        // The request names the good PDF's SHA-256 (and the sent body's MD5, so an MD5-only check cannot tell).
        var upload = await gateway.RequestUploadAsync("rpt_swap", sent, Sha256(announced));
        using (var put = await PutAsync(upload.GetProperty("url").GetString()!, sent, Sha256(announced)))
        {
            output.WriteLine($"s3rver answered {(int)put.StatusCode} to a body whose SHA-256 is not the signed x-amz-checksum-sha256");
        }

        var answer = await gateway.RecordAsync("rpt_swap", sent, Sha256(announced), upload.GetProperty("key").GetString()!);

        Assert.Equal("rejected", answer.GetProperty("type").GetString());
        Assert.Contains("sha256", answer.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await env.RecordCountAsync("rpt_swap"));
    }

    [Fact]
    public async Task Every_upload_gets_a_fresh_cloud_chosen_key_and_a_second_put_over_a_recorded_report_never_reaches_a_download()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        await using var gateway = await GatewayPeer.ConnectAsync(env.Cloud.Broker, Gateway);
        var pdf = Pdf(40_000, seed: 21);
        var evil = Pdf(40_000, seed: 22);

        var first = await gateway.RequestUploadAsync("rpt_over", pdf, Sha256(pdf));
        var second = await gateway.RequestUploadAsync("rpt_over", pdf, Sha256(pdf));
        var key = first.GetProperty("key").GetString()!;
        Assert.Matches($"^c1/{Serial}/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}\\.pdf$", key);
        Assert.NotEqual(key, second.GetProperty("key").GetString());

        var url = first.GetProperty("url").GetString()!;

        // What the signature covers (AWS S3 enforces it; s3rver does not check SigV4 signatures at all).
        var signed = System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)["X-Amz-SignedHeaders"];
        output.WriteLine($"presigned PUT signs: {signed}");
        Assert.Equal(["content-type", "host", "if-none-match", "x-amz-checksum-sha256"], signed!.Split(';').Order(StringComparer.Ordinal));
        using (var put = await PutAsync(url, pdf, Sha256(pdf)))
        {
            Assert.True(put.IsSuccessStatusCode, $"the first PUT failed: {(int)put.StatusCode}");
        }
        Assert.Equal("recorded", (await gateway.RecordAsync("rpt_over", pdf, Sha256(pdf), key)).GetProperty("type").GetString());

        // The same URL again, with other bytes: S3 refuses it (If-None-Match: * is signed); a server that ignores
        // conditional writes stores it, and then the API refuses to serve bytes that are not the recorded ones.
        HttpStatusCode overwrite;
        using (var put = await PutAsync(url, evil, Sha256(evil)))
        {
            overwrite = put.StatusCode;
            output.WriteLine($"s3rver answered {(int)overwrite} to a second PUT with If-None-Match: * on the same key");
        }

        using var download = await env.Admin.GetAsync($"/v1/devices/{Serial}/reports/rpt_over/pdf");
        var body = await download.Content.ReadAsByteArrayAsync();
        Assert.NotEqual(evil, body);
        if (download.IsSuccessStatusCode)
        {
            Assert.Equal(pdf, body);
        }
        else
        {
            Assert.True(overwrite is HttpStatusCode.OK, "the API refused a download although the object was never overwritten");
            Assert.Equal(HttpStatusCode.BadGateway, download.StatusCode);
        }
        Assert.Equal(1, await env.RecordCountAsync("rpt_over"));
    }

    [Fact]
    public async Task Downloads_are_attachments_of_type_application_pdf_that_browsers_do_not_sniff()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        await using var agent = await InProcessAgent.StartAsync([.. env.Cloud.UplinkSettings(Gateway), $"--Agent:Reports:UploadEndpoint={env.S3.ServiceUrl}"]);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var pdf = Pdf(30_000, seed: 31);
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.ReportPdf(Serial, "rpt_dl"), pdf));
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.Report(Serial), ReportJson("rpt_dl")));
        var item = await env.WaitForReportAsync(Serial, "rpt_dl");

        using (var api = await env.Admin.GetAsync($"/v1/devices/{Serial}/reports/rpt_dl/pdf"))
        {
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
            Assert.Equal("application/pdf", api.Content.Headers.ContentType?.ToString());
            Assert.Equal("attachment", api.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("rpt_dl.pdf", api.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            Assert.Equal("nosniff", Assert.Single(api.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal(pdf, await api.Content.ReadAsByteArrayAsync());
        }

        // The presigned link S3 serves directly carries the same type and disposition (S3 cannot add nosniff).
        using var anonymous = new HttpClient();
        using var s3 = await anonymous.GetAsync(item.GetProperty("download_url").GetString());
        Assert.Equal(HttpStatusCode.OK, s3.StatusCode);
        Assert.Equal("application/pdf", s3.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", s3.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(pdf, await s3.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_agent_refuses_an_upload_url_on_another_host_and_counts_it()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        using var elsewhere = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        elsewhere.Start();
        var stolen = $"http://127.0.0.2:{((IPEndPoint)elsewhere.LocalEndpoint).Port}/exfil/report.pdf";
        await using var rogue = await RogueWorker.StartAsync(env.Cloud.Broker, stolen);
        await env.Cloud.StopWorkerAsync(env.Cloud.Workers[0]); // only the rogue answers upload requests
        await using var agent = await InProcessAgent.StartAsync([.. env.Cloud.UplinkSettings(Gateway), $"--Agent:Reports:UploadEndpoint={env.S3.ServiceUrl}"]);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var pdf = Pdf(20_000, seed: 41);
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.ReportPdf(Serial, "rpt_exfil"), pdf));
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.Report(Serial), ReportJson("rpt_exfil")));

        var accept = elsewhere.AcceptTcpClientAsync();
        await Eventually.TrueAsync(async () => accept.IsCompleted
            || MetricsEndpoint.Value(await agent.Admin.GetStringAsync("v1/metrics"), "edge_uplink_upload_urls_refused_total") >= 1,
            TimeSpan.FromSeconds(60), "the agent to refuse the upload URL (or to connect to it)");

        Assert.False(accept.IsCompleted, "the agent connected to the host the rogue answer named");
        Assert.True(rogue.Answered >= 1);
        Assert.True((await agent.Admin.StatusAsync()).Journal.UsedBytes >= pdf.Length, "the report stays journaled");
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    // S3's ETag of a single PUT is the body's MD5: the protocol names it, so the test computes it too.
    private static string Md5(byte[] bytes)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        md5.AppendData(bytes);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    // What a gateway sends with its PUT (docs/reports.md): the signed type, the signed checksum, no overwrite.
    private static async Task<HttpResponseMessage> PutAsync(string url, byte[] body, string sha256)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        request.Headers.TryAddWithoutValidation("x-amz-checksum-sha256", Convert.ToBase64String(Convert.FromHexString(sha256)));
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        return await http.SendAsync(request);
    }

    // The worker's identity comes from the cloud CA and connects to the worker listener; a gateway's from the gateway CA.
    private static MqttClientOptions TlsOptions(MosquittoServer broker, string identity, string clientId) =>
        (identity == MosquittoServer.WorkerIdentity ? broker.WorkerClient(clientId) : broker.GatewayClient(identity, clientId)).Build();

    /// <summary>A client holding a gateway's certificate, speaking the report protocol by hand.</summary>
    private sealed class GatewayPeer : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private readonly string _gatewayId;
        private readonly ConcurrentQueue<JsonElement> _answers = new();

        private GatewayPeer(IMqttClient client, string gatewayId)
        {
            _client = client;
            _gatewayId = gatewayId;
        }

        public static async Task<GatewayPeer> ConnectAsync(MosquittoServer broker, string gatewayId)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var peer = new GatewayPeer(client, gatewayId);
            client.ApplicationMessageReceivedAsync += args =>
            {
                peer._answers.Enqueue(JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload)).RootElement.Clone());
                return Task.CompletedTask;
            };
            await client.ConnectAsync(TlsOptions(broker, gatewayId, gatewayId));
            await client.SubscribeAsync(UplinkTopics.UploadResponse(gatewayId), MqttQualityOfServiceLevel.AtLeastOnce);
            return peer;
        }

        public Task<JsonElement> RequestUploadAsync(string reportId, byte[] body, string sha256) =>
            AskAsync(UplinkTopics.UploadRequest(_gatewayId), Request(reportId, body, sha256));

        public Task<JsonElement> RecordAsync(string reportId, byte[] body, string sha256, string key)
        {
            var record = Request(reportId, body, sha256);
            record["report"] = JsonNode.Parse(ReportJson(reportId));
            record["key"] = key;
            return AskAsync(UplinkTopics.Reports(_gatewayId), record);
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }

        private static JsonObject Request(string reportId, byte[] body, string sha256) => new()
        {
            ["serial"] = Serial,
            ["reportId"] = reportId,
            ["receivedAt"] = DateTimeOffset.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
            ["sizeBytes"] = body.Length,
            ["md5"] = Md5(body),
            ["sha256"] = sha256,
        };

        private async Task<JsonElement> AskAsync(string topic, JsonObject message)
        {
            var result = await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic)
                .WithPayload(Encoding.UTF8.GetBytes(message.ToJsonString())).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess, $"the broker refused the publish: {result.ReasonCode}");
            JsonElement answer = default;
            await Eventually.TrueAsync(() => _answers.TryDequeue(out answer), TimeSpan.FromSeconds(30), $"an answer on uploads/response to {topic}");
            return answer;
        }
    }

    /// <summary>A client with a worker's identity that answers every upload request with a URL of its choosing.</summary>
    private sealed class RogueWorker : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private int _answered;
        private System.Threading.Channels.Channel<(string Gateway, JsonElement Request)>? _requests;

        private RogueWorker(IMqttClient client) => _client = client;

        public int Answered => Volatile.Read(ref _answered);

        public static async Task<RogueWorker> StartAsync(MosquittoServer broker, string url)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var rogue = new RogueWorker(client);
            var requests = System.Threading.Channels.Channel.CreateUnbounded<(string Gateway, JsonElement Request)>();
            client.ApplicationMessageReceivedAsync += args =>
            {
                var gateway = args.ApplicationMessage.Topic.Split('/')[2];
                requests.Writer.TryWrite((gateway, JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload)).RootElement.Clone()));
                return Task.CompletedTask;
            };
            await client.ConnectAsync(TlsOptions(broker, MosquittoServer.WorkerIdentity, "rogue-worker"));
            await client.SubscribeAsync("edge/v1/+/uploads/request", MqttQualityOfServiceLevel.AtLeastOnce);

            // Answered outside the receive handler: a QoS 1 publish awaited inside it would wait on the blocked receive loop.
            _ = Task.Run(async () =>
            {
                await foreach (var r in requests.Reader.ReadAllAsync())
                {
                    {
                        var answer = new JsonObject
                        {
                            ["type"] = "upload",
                            ["serial"] = r.Request.GetProperty("serial").GetString(),
                            ["reportId"] = r.Request.GetProperty("reportId").GetString(),
                            ["url"] = url,
                            ["key"] = "exfil/report.pdf",
                            ["expiresAt"] = DateTimeOffset.UtcNow.AddMinutes(15).ToString("o", System.Globalization.CultureInfo.InvariantCulture),
                            ["reason"] = null,
                            ["retry"] = false,
                        };
                        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.UploadResponse(r.Gateway))
                            .WithPayload(Encoding.UTF8.GetBytes(answer.ToJsonString())).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                        Interlocked.Increment(ref rogue._answered);
                    }
                }
            });
            rogue._requests = requests;
            return rogue;
        }

        public async ValueTask DisposeAsync()
        {
            _requests?.Writer.TryComplete();
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }
}
