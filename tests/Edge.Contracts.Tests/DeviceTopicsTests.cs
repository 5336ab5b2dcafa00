using Edge.Contracts.Topics;

namespace Edge.Contracts.Tests;

public sealed class DeviceTopicsTests
{
    private const string Serial = "ECG-7711-0045";

    public static TheoryData<string, DeviceTopicKind, string?> BuiltTopics => new()
    {
        { DeviceTopics.Telemetry(Serial), DeviceTopicKind.Telemetry, null },
        { DeviceTopics.Report(Serial), DeviceTopicKind.Report, null },
        { DeviceTopics.ReportPdf(Serial, "rpt_893445"), DeviceTopicKind.ReportPdf, "rpt_893445" },
        { DeviceTopics.Status(Serial), DeviceTopicKind.Status, null },
        { DeviceTopics.Config(Serial), DeviceTopicKind.Config, null },
        { DeviceTopics.ConfigAck(Serial), DeviceTopicKind.ConfigAck, null },
        { DeviceTopics.Firmware(Serial), DeviceTopicKind.Firmware, null },
        { DeviceTopics.FirmwareProgress(Serial), DeviceTopicKind.FirmwareProgress, null },
    };

    [Fact]
    public void Builders_make_the_documented_topics()
    {
        Assert.Equal("devices/ECG-7711-0045/telemetry", DeviceTopics.Telemetry(Serial));
        Assert.Equal("devices/ECG-7711-0045/report", DeviceTopics.Report(Serial));
        Assert.Equal("devices/ECG-7711-0045/report/rpt_893445/pdf", DeviceTopics.ReportPdf(Serial, "rpt_893445"));
        Assert.Equal("devices/ECG-7711-0045/status", DeviceTopics.Status(Serial));
        Assert.Equal("devices/ECG-7711-0045/config", DeviceTopics.Config(Serial));
        Assert.Equal("devices/ECG-7711-0045/config/ack", DeviceTopics.ConfigAck(Serial));
        Assert.Equal("devices/ECG-7711-0045/firmware", DeviceTopics.Firmware(Serial));
        Assert.Equal("devices/ECG-7711-0045/firmware/progress", DeviceTopics.FirmwareProgress(Serial));
    }

    [Theory]
    [MemberData(nameof(BuiltTopics))]
    public void Every_built_topic_parses_back_to_its_serial_kind_and_report_id(string topic, DeviceTopicKind kind, string? reportId)
    {
        Assert.True(DeviceTopics.TryParse(topic, out var serial, out var parsedKind, out var parsedReportId));
        Assert.Equal(Serial, serial);
        Assert.Equal(kind, parsedKind);
        Assert.Equal(reportId, parsedReportId);
    }

    [Fact]
    public void The_serial_segment_is_returned_raw_for_the_caller_to_validate()
    {
        Assert.True(DeviceTopics.TryParse("devices/not-a-serial/status", out var serial, out var kind, out _));
        Assert.Equal("not-a-serial", serial);
        Assert.Equal(DeviceTopicKind.Status, kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("devices")]
    [InlineData("devices/")]
    [InlineData("devices/CPAP-2301-9912")]
    [InlineData("devices/CPAP-2301-9912/")]
    [InlineData("devices//telemetry")]
    [InlineData("/devices/CPAP-2301-9912/telemetry")]
    [InlineData("Devices/CPAP-2301-9912/telemetry")]
    [InlineData("devices/CPAP-2301-9912/Telemetry")]
    [InlineData("devices/CPAP-2301-9912/telemetry/")]
    [InlineData("devices/CPAP-2301-9912/telemetry/extra")]
    [InlineData("devices/CPAP-2301-9912/alarms")]
    [InlineData("devices/CPAP-2301-9912/config/nack")]
    [InlineData("devices/CPAP-2301-9912/report/pdf")]
    [InlineData("devices/CPAP-2301-9912/report//pdf")]
    [InlineData("devices/CPAP-2301-9912/report/a/b/pdf")]
    [InlineData("devices/CPAP-2301-9912/report/rpt_1/png")]
    [InlineData("devices/+/telemetry")]
    [InlineData("devices/#")]
    [InlineData("devices/CPAP-2301-9912/report/+/pdf")]
    [InlineData("edge/v1/gw-1/telemetry")]
    public void Topics_of_any_other_shape_are_not_recognised(string topic)
    {
        Assert.False(DeviceTopics.TryParse(topic, out _, out _, out var reportId));
        Assert.Null(reportId);
    }

    [Theory]
    [InlineData("devices/CPAP-2301-9912/telemetry", true)]
    [InlineData("devices/CPAP-2301-9912/#", true)]
    [InlineData("devices/CPAP-2301-9912/report/rpt_1/pdf", true)]
    [InlineData("devices/CPAP-2301-9912", false)]
    [InlineData("devices/CPAP-2301-9912/", true)]
    [InlineData("devices/CPAP-2301-99120/telemetry", false)]
    [InlineData("devices/CPAP-2301-991/telemetry", false)]
    [InlineData("devices/+/telemetry", false)]
    [InlineData("devices/#", false)]
    [InlineData("#", false)]
    [InlineData("xdevices/CPAP-2301-9912/telemetry", false)]
    public void IsUnderDevice_is_true_only_inside_that_devices_tree(string topicOrFilter, bool expected)
    {
        Assert.Equal(expected, DeviceTopics.IsUnderDevice(topicOrFilter, "CPAP-2301-9912"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("CPAP-2301-9912/other")]
    [InlineData("+")]
    [InlineData("#")]
    public void Builders_refuse_a_serial_that_would_change_the_topics_shape(string serial)
    {
        Assert.ThrowsAny<ArgumentException>(() => DeviceTopics.Telemetry(serial));
        Assert.ThrowsAny<ArgumentException>(() => DeviceTopics.ReportPdf("ECG-7711-0045", serial));
    }
}
