using System.Text;
using Edge.Contracts.Topics;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Reports;

/// <summary>What the device broker does with report publishes: journal before the PUBACK, refuse bad ones naming the field.</summary>
public sealed class ReportIngestTests : IAsyncLifetime
{
    private const string Ecg = "ECG-7711-0045";
    private const string Oxy = "OXY-8844-5521";

    private InProcessAgent _agent = null!;
    private TestDevice _ecg = null!;
    private TestDevice _oxy = null!;

    public async Task InitializeAsync()
    {
        // No uplink: reports stay in the journal, where the test can look at them.
        _agent = await InProcessAgent.StartAsync("--Agent:Reports:MaxPdfPublishBytes=65536", "--Agent:Reports:MaxPdfBytes=150000");
        _ecg = await TestDevice.ConnectAsync(_agent.Port, Ecg, await _agent.Admin.AddDeviceAsync(Ecg));
        _oxy = await TestDevice.ConnectAsync(_agent.Port, Oxy, await _agent.Admin.AddDeviceAsync(Oxy));
    }

    public async Task DisposeAsync()
    {
        await _ecg.DisposeAsync();
        await _oxy.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task A_report_and_its_pdf_are_in_the_journal_when_their_pubacks_arrive()
    {
        var pdf = Pdf(60_000);

        Assert.True((await _ecg.PublishAsync(DeviceTopics.ReportPdf(Ecg, "rpt_1"), pdf)).IsSuccess);
        Assert.True((await _ecg.PublishAsync(DeviceTopics.Report(Ecg), Json("rpt_1"))).IsSuccess);

        var report = Assert.Single(_agent.Journal.ReadyReports(10));
        Assert.Equal(("rpt_1", 60_000L), (report.ReportId, report.SizeBytes));
        Assert.True(_agent.Journal.Snapshot.UsedBytes > 60_000);
    }

    [Theory]
    [InlineData("not-a-pdf", "pdf: the first bytes are not '%PDF-'")]
    [InlineData("too-large", "pdf: the publish is 70000 bytes; the limit is 65536")]
    [InlineData("too-large-in-all", "pdf: the parts add up to 180000 bytes; the limit is 150000")]
    public async Task Bad_pdf_publishes_are_refused_naming_the_field(string kind, string reason)
    {
        if (kind == "too-large-in-all")
        {
            for (var part = 1; part <= 2; part++)
            {
                Assert.True((await _ecg.PublishAsync(DeviceTopics.ReportPdfPart(Ecg, "rpt_2", part, 3), Pdf(60_000))).IsSuccess);
            }
        }

        var result = kind switch
        {
            "not-a-pdf" => await _ecg.PublishAsync(DeviceTopics.ReportPdf(Ecg, "rpt_2"), Encoding.ASCII.GetBytes("hello")),
            "too-large" => await _ecg.PublishAsync(DeviceTopics.ReportPdf(Ecg, "rpt_2"), Pdf(70_000)),
            _ => await _ecg.PublishAsync(DeviceTopics.ReportPdfPart(Ecg, "rpt_2", 3, 3), Pdf(60_000)),
        };

        Assert.Equal(MqttClientPublishReasonCode.PayloadFormatInvalid, result.ReasonCode);
        Assert.StartsWith(reason, result.ReasonString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_from_other_device_kinds_and_invalid_report_json_are_refused()
    {
        var fromOxygen = await _oxy.PublishAsync(DeviceTopics.ReportPdf(Oxy, "rpt_3"), Pdf(1000));
        var badJson = await _ecg.PublishAsync(DeviceTopics.Report(Ecg), Encoding.UTF8.GetString(Json("rpt_3")).Replace("\"min_hr\":58", "\"min_hr\":-5", StringComparison.Ordinal));

        Assert.StartsWith("serial:", fromOxygen.ReasonString, StringComparison.Ordinal);
        Assert.Contains("report.summary.min_hr", badJson.ReasonString, StringComparison.Ordinal);
        Assert.Empty(_agent.Journal.ReadyReports(10));
        Assert.Equal(0, _agent.Journal.Snapshot.Reports);
    }

    private static byte[] Pdf(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        "%PDF-1.7\n"u8.CopyTo(bytes);
        return bytes;
    }

    private static byte[] Json(string reportId) => Encoding.UTF8.GetBytes(
        $$$$"""{"serial":"ECG-7711-0045","report":{"report_id":"{{{{reportId}}}}","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":[]}}}""");
}
