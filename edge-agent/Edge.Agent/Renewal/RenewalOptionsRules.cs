using Microsoft.Extensions.Options;

namespace Edge.Agent.Renewal;

/// <summary>What the data annotations on <see cref="RenewalOptions"/> cannot say: an https URL, a file that exists, a range whose ends are in order.</summary>
internal sealed class RenewalOptionsRules : IValidateOptions<RenewalOptions>
{
    public ValidateOptionsResult Validate(string? name, RenewalOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.ApiUrl is not null && !(Uri.TryCreate(options.ApiUrl, UriKind.Absolute, out var url) && url.Scheme == "https" && string.IsNullOrEmpty(url.UserInfo)))
        {
            result.AddError("Agent:CertificateRenewal:ApiUrl must be an https URL (the renewal is authenticated by the gateway's certificate over TLS), e.g. https://api.example.org.");
        }

        if (options.ApiCaPath is not null && !File.Exists(options.ApiCaPath))
        {
            result.AddError("Agent:CertificateRenewal:ApiCaPath does not exist.");
        }

        if (options.RetryMinSeconds > options.RetryMaxSeconds)
        {
            result.AddError("Agent:CertificateRenewal:RetryMinSeconds must not exceed RetryMaxSeconds.");
        }

        return result.Build();
    }
}
