using Microsoft.Extensions.Options;

namespace Edge.Api.Auth;

/// <summary>What the data annotations on <see cref="AuthOptions"/> cannot say: exactly one way of checking tokens, and an issuer URL that parses.</summary>
internal sealed class AuthOptionsRules : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (string.IsNullOrWhiteSpace(options.Authority) == (string.IsNullOrWhiteSpace(options.SigningKeyFile) && string.IsNullOrWhiteSpace(options.SigningKey)))
        {
            result.AddError("Api:Auth needs exactly one of: Authority (an OpenID Connect issuer such as a Cognito user pool) or SigningKeyFile/SigningKey (a local HMAC key).");
        }

        if (!string.IsNullOrWhiteSpace(options.Authority) && !Uri.TryCreate(options.Authority, UriKind.Absolute, out _))
        {
            result.AddError("Api:Auth:Authority must be an absolute URL.");
        }

        return result.Build();
    }
}
