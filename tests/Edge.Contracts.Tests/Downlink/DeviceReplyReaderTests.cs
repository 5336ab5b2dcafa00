using System.Text;
using Edge.Contracts.Downlink;

namespace Edge.Contracts.Tests.Downlink;

public sealed class DeviceReplyReaderTests
{
    private const string Job = "0196b1a2-7c3d-7e4f-8a9b-0c1d2e3f4a5b";

    [Theory]
    [InlineData("""{"version":3,"status":"applied"}""", "")]
    [InlineData("""{"version":3,"status":"rejected","reason":"pressure out of range for mask"}""", "")]
    [InlineData("""{"version":0,"status":"applied"}""", "version: must be 1 or more")]
    [InlineData("""{"version":3,"status":"done"}""", "status: must be \"applied\" or \"rejected\"")]
    [InlineData("""{"version":3,"status":"rejected"}""", "reason: required when status is \"rejected\"")]
    [InlineData("""{"status":"applied"}""", "version: required")]
    [InlineData("""{"version":"3","status":"applied"}""", "version")]
    [InlineData("""not json""", "'not json' is an invalid")]
    public void Config_acks_are_checked_field_by_field(string json, string expected)
    {
        var ok = DeviceReplyReader.TryReadConfigAck(Encoding.UTF8.GetBytes(json), out _, out var error);
        Assert.Equal(expected.Length == 0, ok);
        Assert.StartsWith(expected, error);
    }

    [Theory]
    [InlineData($$"""{"job_id":"{{Job}}","status":"downloading","percent":40}""", "")]
    [InlineData($$"""{"job_id":"{{Job}}","status":"failed","reason":"checksum mismatch"}""", "")]
    [InlineData($$"""{"job_id":"{{Job}}","status":"failed"}""", "reason: required")]
    [InlineData($$"""{"job_id":"{{Job}}","status":"paused"}""", "status: must be one of downloading, installing, done, failed")]
    [InlineData($$"""{"job_id":"{{Job}}","status":"downloading","percent":140}""", "percent: must be between 0 and 100")]
    [InlineData("""{"job_id":"00000000-0000-0000-0000-000000000000","status":"done"}""", "job_id: required")]
    public void Firmware_progress_is_checked_field_by_field(string json, string expected)
    {
        var ok = DeviceReplyReader.TryReadFirmwareProgress(Encoding.UTF8.GetBytes(json), out _, out var error);
        Assert.Equal(expected.Length == 0, ok);
        Assert.StartsWith(expected, error);
    }

    [Theory]
    [InlineData("https://fw.example/a.bin", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "")]
    [InlineData("http://fw.example/a.bin", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "url:")]
    [InlineData("https://fw.example/a.bin", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "sha256:")]
    [InlineData("https://fw.example/a.bin", "abc", "sha256:")]
    public void Firmware_offers_need_an_https_url_and_a_lower_case_sha256(string url, string sha256, string expected)
    {
        Assert.StartsWith(expected, DeviceReplyReader.CheckOffer(Guid.Parse(Job), "ECG-7711-0045", "2.0.0", url, sha256));
    }
}
