using Microsoft.Extensions.Options;

namespace Edge.Agent.Reports;

/// <summary>What the data annotations on <see cref="ReportOptions"/> cannot say: sizes in order and an endpoint with nothing after the port.</summary>
internal sealed class ReportOptionsRules : IValidateOptions<ReportOptions>
{
    public ValidateOptionsResult Validate(string? name, ReportOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.MaxPdfPublishBytes > options.MaxPdfBytes)
        {
            result.AddError("Agent:Reports:MaxPdfPublishBytes must not exceed Agent:Reports:MaxPdfBytes.");
        }

        if (options.UploadEndpoint is not null && !(Uri.TryCreate(options.UploadEndpoint, UriKind.Absolute, out var url) && url.Scheme is "https" or "http" && string.IsNullOrEmpty(url.UserInfo) && url.AbsolutePath == "/" && string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment)))
        {
            result.AddError("Agent:Reports:UploadEndpoint must be scheme://host[:port] with scheme https or http and nothing after the port, e.g. https://ecg-reports.s3.eu-west-1.amazonaws.com.");
        }

        return result.Build();
    }
}
