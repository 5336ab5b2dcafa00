using Microsoft.Extensions.Options;

namespace Edge.Console.Hosting;

/// <summary>The rules between settings that annotations cannot say: URL schemes, files that must exist, OIDC completeness.</summary>
internal sealed class ConsoleOptionsRules : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        var failures = new List<string>();
        if (options.ApiUrl is { } api && (!api.IsAbsoluteUri || api.Scheme is not ("http" or "https")))
        {
            failures.Add($"Console:ApiUrl must be an absolute http or https URL (was {api}).");
        }
        if (options.ApiCaPath is { Length: > 0 } ca)
        {
            if (options.ApiUrl is { Scheme: not "https" })
            {
                failures.Add("Console:ApiCaPath is only for an https Console:ApiUrl.");
            }
            else if (!File.Exists(ca))
            {
                failures.Add($"Console:ApiCaPath: no such file {ca}.");
            }
        }
        var oidc = options.Oidc;
        if (oidc.Authority is { } authority)
        {
            if (!authority.IsAbsoluteUri || (authority.Scheme != "https" && oidc.RequireHttpsMetadata))
            {
                failures.Add($"Console:Oidc:Authority must be an absolute https URL (was {authority}).");
            }
            if (string.IsNullOrWhiteSpace(oidc.ClientId))
            {
                failures.Add("Console:Oidc:ClientId is required when Console:Oidc:Authority is set.");
            }
            if (oidc.ClientSecretFile is { Length: > 0 } secret && !File.Exists(secret))
            {
                failures.Add($"Console:Oidc:ClientSecretFile: no such file {secret}.");
            }
            if (!oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid"))
            {
                failures.Add("Console:Oidc:Scopes must include openid.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
