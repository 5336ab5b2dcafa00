using Microsoft.Extensions.Options;
using System.Text.RegularExpressions;

namespace Edge.Storage.Reports;

/// <summary>What the data annotations on <see cref="ReportOptions"/> cannot say: a URL that parses, credentials that go together, a file that exists, a valid bucket name.</summary>
internal sealed class ReportOptionsRules : IValidateOptions<ReportOptions>
{
    public ValidateOptionsResult Validate(string? name, ReportOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.ServiceUrl is not null && !(Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            result.AddError("Reports:ServiceUrl must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:4568.");
        }

        if (options.AccessKeyId is not null && options.SecretAccessKeyFile is null && options.SecretAccessKey is null)
        {
            result.AddError("Reports:AccessKeyId needs Reports:SecretAccessKeyFile or Reports:SecretAccessKey.");
        }

        if (options.SecretAccessKeyFile is not null && !File.Exists(options.SecretAccessKeyFile))
        {
            result.AddError("Reports:SecretAccessKeyFile does not exist.");
        }

        if (options.Bucket is not null && !Regex.IsMatch(options.Bucket, "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))
        {
            result.AddError("Reports:Bucket must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'.");
        }

        return result.Build();
    }
}
