using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Buffers;
using Edge.Contracts.Reports;
using Edge.Contracts.Topics;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Edge.Testing.S3;
using MQTTnet;
using Npgsql;

namespace Edge.EndToEnd.Tests.Reports;

/// <summary>
/// ECG report PDFs from a device through the agent (journal, presigned upload) to S3 (s3rver) and PostgreSQL (ingest
/// worker), then out through the API's list and its presigned download link, all real. Whatever fails on the way, the
/// PDF ends up byte-identical in S3 and recorded once.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class ReportEndToEndTests(PostgresServer postgres)
{
    internal const string Serial = "ECG-9300-0001";

    [Fact]
    public async Task A_pdf_published_in_parts_out_of_order_reaches_s3_byte_identical_and_downloads_through_the_api()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        await using var agent = await InProcessAgent.StartAsync(env.AgentSettings);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var pdf = Pdf(300_000, seed: 1);

        // Parts 3, 1, 2, the JSON last, and part 2 twice (a re-send after a lost PUBACK): each is acknowledged.
        var parts = new[] { pdf[..100_000], pdf[100_000..200_000], pdf[200_000..] };
        foreach (var part in new[] { 3, 1, 2, 2 })
        {
            await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.ReportPdfPart(Serial, "rpt_parts", part, 3), parts[part - 1]));
        }
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.Report(Serial), ReportJson("rpt_parts")));

        var item = await env.WaitForReportAsync(Serial, "rpt_parts");
        Assert.Equal(pdf, await env.DownloadAsync(item));
        Assert.Equal(pdf.Length, item.GetProperty("size_bytes").GetInt64());
        Assert.Equal("gateway", item.GetProperty("source").GetString());
        Assert.Equal(InProcessAgent.DefaultGatewayId, item.GetProperty("gateway_id").GetString());
        Assert.Matches($@"^s3://ecg-reports/c1/{Serial}/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}\.pdf$", item.GetProperty("s3_url").GetString());
        Assert.Equal(76, item.GetProperty("report").GetProperty("report").GetProperty("summary").GetProperty("avg_hr").GetDouble());
        Assert.Equal(1, await env.RecordCountAsync("rpt_parts"));
        await Eventually.TrueAsync(async () => (await agent.Admin.StatusAsync()).Journal.UsedBytes == 0, TimeSpan.FromSeconds(30),
            "the agent to remove the recorded report from its journal");
    }

    [Fact]
    public async Task A_pdf_is_byte_identical_in_s3_and_recorded_once_after_the_agent_is_killed_mid_upload()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        using var state = new TempDirectory();
        var port = FreePort.Next();
        var uplink = env.AgentSettings.Select(s => s[2..].Split('=', 2)).Select(p => (p[0].Replace(":", "__", StringComparison.Ordinal), p[1])).ToList();
        (string, string)[] slow =
        [
            .. uplink,
            // 4 MB at 256 KiB/s: the PUT takes about 16 s, so the kill lands in the middle of it.
            ("Agent__Reports__UploadBytesPerSecond", "262144"),
            ("Logging__LogLevel__Edge.Agent.Reports", "Information"),
        ];
        var pdf = Pdf(4_000_000, seed: 2);

        var agent = await AgentChildProcess.StartAsync(state.Path, port, slow);
        try
        {
            using (var admin = AdminHttp.Create(agent.SocketPath))
            {
                await using var device = await TestDevice.ConnectAsync(port, Serial, await admin.AddDeviceAsync(Serial));
                await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.ReportPdf(Serial, "rpt_crash"), pdf));
                await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.Report(Serial), ReportJson("rpt_crash")));
            }

            await Eventually.TrueAsync(() => agent.Output.Contains("Uploading report rpt_crash", StringComparison.Ordinal), TimeSpan.FromSeconds(60),
                "the agent to start uploading the PDF");
            await agent.KillAsync();
            Assert.Equal(0, await env.RecordCountAsync("rpt_crash"));
        }
        finally
        {
            await agent.DisposeAsync();
        }

        // Restarted on the same journal, unthrottled: the upload starts again from the first byte.
        agent = await AgentChildProcess.StartAsync(state.Path, port, [.. uplink]);
        await using (agent)
        {
            var item = await env.WaitForReportAsync(Serial, "rpt_crash");
            Assert.Equal(pdf, await env.DownloadAsync(item));
            Assert.Equal(1, await env.RecordCountAsync("rpt_crash"));
            using var admin = AdminHttp.Create(agent.SocketPath);
            await Eventually.TrueAsync(async () => (await admin.StatusAsync()).Journal.UsedBytes == 0, TimeSpan.FromSeconds(30),
                "the agent to remove the recorded report from its journal");
        }
    }

    [Fact]
    public async Task Another_gateway_asking_to_upload_or_record_a_report_for_this_gateways_device_is_refused_for_good()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        (await env.Admin.PostAsJsonAsync("/v1/gateways", new { id = "gw-other", clinic_id = "c1", name = "Other desk" })).EnsureSuccessStatusCode();
        using var other = await env.Cloud.ConnectGatewayAsync("gw-other");
        var answers = new System.Collections.Concurrent.ConcurrentQueue<ReportUploadResponse>();
        other.ApplicationMessageReceivedAsync += args =>
        {
            answers.Enqueue(ReportUplink.ReadResponse(args.ApplicationMessage.Payload.ToArray()).Value!);
            return Task.CompletedTask;
        };
        await other.SubscribeAsync(UplinkTopics.UploadResponse("gw-other"), MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        var request = new ReportUploadRequest(Serial, "rpt_foreign", DateTimeOffset.UtcNow, 1000, new string('a', 32), new string('b', 64));
        var record = new ReportRecordRequest(Serial, "rpt_foreign_2", DateTimeOffset.UtcNow, 1000, new string('a', 32), new string('b', 64),
            JsonDocument.Parse(ReportJson("rpt_foreign_2")).RootElement);

        await other.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.UploadRequest("gw-other")).WithPayload(ReportUplink.Write(request))
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await other.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.Reports("gw-other"))
            .WithPayload(ReportUplink.Write(record))
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());

        await Eventually.TrueAsync(() => answers.Count == 2, TimeSpan.FromSeconds(60), "both answers");
        Assert.All(answers, a =>
        {
            Assert.Equal((ReportUploadResponse.TypeRejected, false, null), (a.Type, a.Retry, a.Url));
            Assert.Equal("serial: not a device of gateway gw-other (other-gateway)", a.Reason);
        });
        Assert.Equal(0, await env.RecordCountAsync("rpt_foreign_2"));
    }

    [Fact]
    public async Task A_pdf_is_byte_identical_in_s3_after_an_s3_outage()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        await using var agent = await InProcessAgent.StartAsync(env.AgentSettings);
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var pdf = Pdf(1_000_000, seed: 3);

        await env.S3.StopAsync();
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.ReportPdf(Serial, "rpt_outage"), pdf));
        await AssertAcceptedAsync(device.PublishAsync(DeviceTopics.Report(Serial), ReportJson("rpt_outage")));

        // Absence needs a window: long enough for a presign, three failed PUTs and the first backoff.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await env.RecordCountAsync("rpt_outage"));
        Assert.True((await agent.Admin.StatusAsync()).Journal.UsedBytes >= pdf.Length, "the report stays journaled while S3 is down");

        await env.S3.StartAsync();
        var item = await env.WaitForReportAsync(Serial, "rpt_outage");
        Assert.Equal(pdf, await env.DownloadAsync(item));
        Assert.Equal(1, await env.RecordCountAsync("rpt_outage"));
    }

    [Fact]
    public async Task The_api_accepts_a_direct_upload_audits_it_lists_it_and_refuses_bad_input_naming_the_field()
    {
        await using var env = await ReportCloud.StartAsync(postgres);
        var pdf = Pdf(200_000, seed: 4);

        using (var upload = Multipart(ReportJson("rpt_direct"), pdf))
        using (var created = await env.Admin.PostAsync($"/v1/devices/{Serial}/reports", upload))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // The same upload again is a no-op that answers the record.
        using (var again = Multipart(ReportJson("rpt_direct"), pdf))
        using (var repeated = await env.Admin.PostAsync($"/v1/devices/{Serial}/reports", again))
        {
            Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        }

        var item = await env.WaitForReportAsync(Serial, "rpt_direct");
        Assert.Equal(pdf, await env.DownloadAsync(item));
        Assert.Equal("upload", item.GetProperty("source").GetString());
        Assert.Equal(1, await env.RecordCountAsync("rpt_direct"));
        var audit = await env.Admin.GetFromJsonAsync<JsonElement>("/v1/audit?target_type=report&target_id=rpt_direct");
        Assert.Equal("report.upload", Assert.Single(audit.GetProperty("items").EnumerateArray()).GetProperty("action").GetString());

        // Another PDF under the same id would overwrite the first: refused.
        using (var other = Multipart(ReportJson("rpt_direct"), Pdf(1000, seed: 5)))
        using (var conflict = await env.Admin.PostAsync($"/v1/devices/{Serial}/reports", other))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        }

        await AssertBadRequestAsync(env, Multipart(ReportJson("rpt_x"), null), "pdf");
        await AssertBadRequestAsync(env, Multipart(ReportJson("rpt_x"), Encoding.ASCII.GetBytes("not a pdf")), "pdf");
        await AssertBadRequestAsync(env, Multipart(ReportJson("rpt_x").Replace("\"avg_hr\":76", "\"avg_hr\":900", StringComparison.Ordinal), pdf), "report.report.summary.avg_hr");
        await AssertBadRequestAsync(env, Multipart(null, pdf), "report");
        await AssertBadRequestAsync(env, new StringContent("{}", Encoding.UTF8, "application/json"), "body");
    }

    internal static byte[] Pdf(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        "%PDF-1.7\n"u8.CopyTo(bytes);
        return bytes;
    }

    internal static string ReportJson(string reportId) =>
        $$$$"""{"serial":"{{{{Serial}}}}","report":{"report_id":"{{{{reportId}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":["PVC detected"]}}}""";

    internal static async Task AssertAcceptedAsync(Task<MqttClientPublishResult> publish)
    {
        var result = await publish;
        Assert.True(result.IsSuccess, $"publish refused: {result.ReasonCode} {result.ReasonString}");
    }

    private static MultipartFormDataContent Multipart(string? json, byte[]? pdf)
    {
        var form = new MultipartFormDataContent();
        if (json is not null)
        {
            form.Add(new StringContent(json, Encoding.UTF8, "application/json"), "report");
        }
        if (pdf is not null)
        {
            var file = new ByteArrayContent(pdf);
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
            form.Add(file, "pdf", "report.pdf");
        }
        return form;
    }

    private static async Task AssertBadRequestAsync(ReportCloud env, HttpContent content, string field)
    {
        using (content)
        using (var response = await env.Admin.PostAsync($"/v1/devices/{Serial}/reports", content))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode} {body}");
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"expected an error on {field}: {body}");
        }
    }

    /// <summary>The cloud with reports on: mosquitto, PostgreSQL, s3rver, one ingest worker and the API, the device registered.</summary>
    internal sealed class ReportCloud : IAsyncDisposable
    {
        private ReportCloud(LocalCloud cloud, S3rverServer s3, InProcessApi api)
        {
            Cloud = cloud;
            S3 = s3;
            Api = api;
            Admin = api.As("admin");
        }

        public LocalCloud Cloud { get; }

        public S3rverServer S3 { get; }

        public InProcessApi Api { get; }

        public HttpClient Admin { get; }

        /// <summary>An agent's settings for this cloud: the uplink as gw-test, and uploads to this s3rver only.</summary>
        public string[] AgentSettings => [.. Cloud.UplinkSettings(InProcessAgent.DefaultGatewayId), $"--Agent:Reports:UploadEndpoint={S3.ServiceUrl}"];

        public static async Task<ReportCloud> StartAsync(PostgresServer postgres, IEnumerable<KeyValuePair<string, string?>>? workerSettings = null)
        {
            var cloud = await LocalCloud.StartAsync(postgres);
            var s3 = await S3rverServer.StartNewAsync();
            await cloud.StartWorkerAsync("ingest-a", settings: [.. s3.ReportConfiguration, .. workerSettings ?? []]);
            var api = await InProcessApi.StartAsync(cloud.ConnectionString, s3.ReportSettings);
            var env = new ReportCloud(cloud, s3, api);
            (await env.Admin.PostAsJsonAsync("/v1/clinics", new { id = "c1", name = "Clinic One" })).EnsureSuccessStatusCode();
            (await env.Admin.PostAsJsonAsync("/v1/gateways", new { id = InProcessAgent.DefaultGatewayId, clinic_id = "c1", name = "Front desk" })).EnsureSuccessStatusCode();
            (await env.Admin.PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "c1", gateway_id = InProcessAgent.DefaultGatewayId })).EnsureSuccessStatusCode();
            return env;
        }

        /// <summary>Waits until the API lists the report, and returns its list item.</summary>
        public async Task<JsonElement> WaitForReportAsync(string serial, string reportId)
        {
            JsonElement found = default;
            await Eventually.TrueAsync(async () =>
            {
                var page = await Admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{serial}/reports");
                foreach (var item in page.GetProperty("items").EnumerateArray())
                {
                    if (item.GetProperty("report_id").GetString() == reportId)
                    {
                        found = item.Clone();
                        return true;
                    }
                }
                return false;
            }, TimeSpan.FromSeconds(120), $"report {reportId} to be recorded");
            return found;
        }

        /// <summary>Follows the item's presigned link with a client that has no credentials at all.</summary>
        public async Task<byte[]> DownloadAsync(JsonElement item)
        {
            using var anonymous = new HttpClient();
            return await anonymous.GetByteArrayAsync(item.GetProperty("download_url").GetString());
        }

        public async Task<long> RecordCountAsync(string reportId)
        {
            await using var connection = new NpgsqlConnection(Cloud.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM ecg_reports WHERE report_id = $1", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reportId });
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            await Api.DisposeAsync();
            await Cloud.DisposeAsync();
            await S3.DisposeAsync();
        }
    }
}
