using System.Text;
using System.Text.Json;
using Edge.Contracts.Reports;
using Edge.Contracts.Topics;

namespace Edge.Contracts.Tests.Reports;

public sealed class ReportUplinkTests
{
    private const string Serial = "ECG-7711-0045";
    private const string Md5 = "0123456789abcdef0123456789abcdef";
    private static readonly string Sha256 = new('a', 64);
    private static readonly DateTimeOffset Received = new(2025, 11, 24, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(9999, 9999)]
    public void Pdf_part_topics_parse_back_to_their_report_and_numbers(int part, int parts)
    {
        var topic = DeviceTopics.ReportPdfPart(Serial, "rpt_1", part, parts);

        Assert.Equal($"devices/{Serial}/report/rpt_1/pdf/{part}/{parts}", topic);
        Assert.True(DeviceTopics.TryParse(topic, out var serial, out var kind, out var reportId));
        Assert.Equal((Serial, DeviceTopicKind.ReportPdfPart, "rpt_1"), (serial, kind, reportId));
        Assert.True(DeviceTopics.TryParsePdfPart(topic, out var parsedPart, out var parsedParts));
        Assert.Equal((part, parts), (parsedPart, parsedParts));
    }

    [Theory]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/0/3")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/4/3")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/01/3")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/1/0")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/1/10000")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/-1/3")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/1")]
    [InlineData("devices/ECG-7711-0045/report/rpt_1/pdf/1/2/3")]
    [InlineData("devices/ECG-7711-0045/report//pdf/1/2")]
    public void Malformed_pdf_part_topics_are_not_device_topics(string topic)
    {
        Assert.False(DeviceTopics.TryParse(topic, out _, out _, out _));
        Assert.False(DeviceTopics.TryParsePdfPart(topic, out _, out _));
    }

    [Fact]
    public void The_whole_pdf_topic_has_no_part_numbers()
    {
        Assert.False(DeviceTopics.TryParsePdfPart(DeviceTopics.ReportPdf(Serial, "rpt_1"), out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceTopics.ReportPdfPart(Serial, "rpt_1", 3, 2));
    }

    [Fact]
    public void An_upload_request_round_trips()
    {
        var request = new ReportUploadRequest(Serial, "rpt_1", Received, 1234, Md5, Sha256);

        var read = ReportUplink.ReadUploadRequest(ReportUplink.Write(request), maxPdfBytes: 10_000);

        Assert.True(read.IsValid, read.ErrorSummary());
        Assert.Equal(request, read.Value);
    }

    [Theory]
    [InlineData("serial", "OXY-8844-5521", "rpt_1", 1234L, Md5, 2025)]
    [InlineData("serial", "ECG-77", "rpt_1", 1234L, Md5, 2025)]
    [InlineData("reportId", Serial, "rpt/1", 1234L, Md5, 2025)]
    [InlineData("reportId", Serial, "", 1234L, Md5, 2025)]
    [InlineData("sizeBytes", Serial, "rpt_1", 0L, Md5, 2025)]
    [InlineData("sizeBytes", Serial, "rpt_1", 10_001L, Md5, 2025)]
    [InlineData("md5", Serial, "rpt_1", 1234L, "0123456789ABCDEF0123456789ABCDEF", 2025)]
    [InlineData("receivedAt", Serial, "rpt_1", 1234L, Md5, 1970)]
    public void A_bad_upload_request_is_refused_naming_the_field(string field, string serial, string reportId, long size, string md5, int year)
    {
        var request = new ReportUploadRequest(serial, reportId, new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero), size, md5, Sha256);

        var read = ReportUplink.ReadUploadRequest(ReportUplink.Write(request), maxPdfBytes: 10_000);

        Assert.False(read.IsValid);
        Assert.Equal([field], read.Errors.Select(e => e.Field));
    }

    [Fact]
    public void Missing_properties_malformed_json_and_oversized_messages_are_refused()
    {
        var missing = ReportUplink.ReadUploadRequest("""{"serial":"ECG-7711-0045","reportId":"rpt_1"}"""u8, 10_000);
        var malformed = ReportUplink.ReadUploadRequest("""{"serial":"""u8, 10_000);
        var huge = ReportUplink.ReadUploadRequest(new byte[ReportUplink.MaxMessageBytes + 1], 10_000);

        Assert.False(missing.IsValid);
        Assert.False(malformed.IsValid);
        Assert.Equal("$", Assert.Single(huge.Errors).Field);
    }

    [Fact]
    public void A_record_request_checks_the_embedded_report_against_its_serial_and_id()
    {
        var good = Record("rpt_1", """{"serial":"ECG-7711-0045","report":{"report_id":"rpt_1","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":[]}}}""");
        var otherId = Record("rpt_1", """{"serial":"ECG-7711-0045","report":{"report_id":"rpt_2","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":[]}}}""");
        var badHr = Record("rpt_1", """{"serial":"ECG-7711-0045","report":{"report_id":"rpt_1","summary":{"avg_hr":900,"max_hr":112,"min_hr":58,"alerts":[]}}}""");

        Assert.True(good.IsValid, good.ErrorSummary());
        Assert.Equal("report.report.report_id", Assert.Single(otherId.Errors).Field);
        Assert.Contains(badHr.Errors, e => e.Field == "report.report.summary.avg_hr");
    }

    [Fact]
    public void A_cloud_answer_must_have_a_known_type_and_an_upload_answer_a_url()
    {
        var upload = new ReportUploadResponse(ReportUploadResponse.TypeUpload, Serial, "rpt_1", "http://127.0.0.1:4568/b/k?X-Amz-Signature=x", "k", Received, null, false);
        var noUrl = upload with { Url = null };
        var unknown = upload with { Type = "maybe" };

        Assert.True(ReportUplink.ReadResponse(ReportUplink.Write(upload)).IsValid);
        Assert.Equal("url", Assert.Single(ReportUplink.ReadResponse(ReportUplink.Write(noUrl)).Errors).Field);
        Assert.Equal("type", Assert.Single(ReportUplink.ReadResponse(ReportUplink.Write(unknown)).Errors).Field);
    }

    [Fact]
    public void A_record_request_carries_the_uploaded_key_and_the_put_headers_carry_the_signed_sha256()
    {
        using var report = JsonDocument.Parse("""{"serial":"ECG-7711-0045","report":{"report_id":"rpt_1","summary":{"avg_hr":76,"max_hr":112,"min_hr":58,"alerts":[]}}}""");
        var request = new ReportRecordRequest(Serial, "rpt_1", Received, 1234, Md5, Sha256, report.RootElement.Clone(), "c1/ECG-7711-0045/k.pdf");

        var read = ReportUplink.ReadRecordRequest(ReportUplink.Write(request), 10_000);
        var tooLong = ReportUplink.ReadRecordRequest(ReportUplink.Write(request with { Key = new string('k', 513) }), 10_000);

        Assert.Equal("c1/ECG-7711-0045/k.pdf", read.Value!.Key);
        Assert.Equal("key", Assert.Single(tooLong.Errors).Field);
        Assert.Equal(
            [new("x-amz-checksum-sha256", Convert.ToBase64String(Convert.FromHexString(Sha256))), new("If-None-Match", "*")],
            ReportUplink.PutHeaders(Sha256));
    }

    private static Validation.Validated<ReportRecordRequest> Record(string reportId, string reportJson)
    {
        using var report = JsonDocument.Parse(reportJson);
        var request = new ReportRecordRequest(Serial, reportId, Received, 1234, Md5, Sha256, report.RootElement.Clone());
        return ReportUplink.ReadRecordRequest(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(ReportUplink.Write(request))), 10_000);
    }
}
