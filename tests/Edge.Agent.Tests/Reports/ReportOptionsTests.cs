using Edge.Agent.Reports;

namespace Edge.Agent.Tests.Reports;

/// <summary>The one S3 endpoint the agent sends report PDFs to: scheme, host and port must all match, nothing else does.</summary>
public sealed class ReportOptionsTests
{
    [Theory]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://ecg-reports.s3.eu-west-1.amazonaws.com/c1/ECG-1/u.pdf?X-Amz-Signature=x", true)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://ECG-REPORTS.s3.eu-west-1.amazonaws.com:443/k.pdf", true)]
    [InlineData("http://127.0.0.1:4568", "http://127.0.0.1:4568/ecg-reports/k.pdf", true)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "http://ecg-reports.s3.eu-west-1.amazonaws.com/k.pdf", false)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://ecg-reports.s3.eu-west-1.amazonaws.com:8443/k.pdf", false)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://attacker.example/k.pdf", false)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://ecg-reports.s3.eu-west-1.amazonaws.com.attacker.example/k.pdf", false)]
    [InlineData("https://ecg-reports.s3.eu-west-1.amazonaws.com", "https://user@ecg-reports.s3.eu-west-1.amazonaws.com/k.pdf", false)]
    [InlineData("http://127.0.0.1:4568", "http://127.0.0.2:4568/ecg-reports/k.pdf", false)]
    [InlineData(null, "http://127.0.0.1:4568/ecg-reports/k.pdf", false)]
    public void Only_the_configured_scheme_host_and_port_are_trusted(string? endpoint, string url, bool trusted)
    {
        var options = new ReportOptions { UploadEndpoint = endpoint };

        Assert.Equal(trusted, options.IsUploadEndpoint(new Uri(url)));
    }
}
