using System.CommandLine;

namespace Edge.Cli.Cloud;

/// <summary>
/// Which API and which token a command uses: <c>--api</c>, else <c>EDGE_API_URL</c>, else the stored login; the token
/// from <c>EDGE_TOKEN</c>, else the stored one, but only for the API it was stored for (a token is never sent elsewhere).
/// </summary>
internal sealed record CloudSession(Uri ApiUrl, string Token)
{
    public static CloudSession Resolve(ParseResult parseResult, Option<string?> api)
    {
        var stored = CredentialStore.Load();
        var url = ChooseUrl(parseResult.GetValue(api), stored);
        if (Environment.GetEnvironmentVariable(ApiOption.TokenVariable) is { Length: > 0 } token)
        {
            return new CloudSession(url, token.Trim());
        }

        if (stored is not null && ApiOption.ParseUrl(stored.ApiUrl) == url)
        {
            return new CloudSession(url, stored.Token);
        }

        throw new EdgectlException(
            stored is null
                ? $"not logged in to {url}. Run 'edgectl login --api {url}' or set {ApiOption.TokenVariable}."
                : $"not logged in to {url} (the stored login is for {stored.ApiUrl}). Run 'edgectl login --api {url}' or set {ApiOption.TokenVariable}.",
            ExitCodes.Unauthenticated);
    }

    static Uri ChooseUrl(string? option, StoredCredentials? stored)
    {
        if (option is not null)
        {
            return ApiOption.ParseUrl(option)!;
        }

        if (Environment.GetEnvironmentVariable(ApiOption.UrlVariable) is { Length: > 0 } fromEnvironment)
        {
            return ApiOption.ParseUrl(fromEnvironment)
                ?? throw new EdgectlException($"{ApiOption.UrlVariable}: '{fromEnvironment}' is not an http:// or https:// URL.", ExitCodes.Usage);
        }

        if (stored is not null && ApiOption.ParseUrl(stored.ApiUrl) is { } storedUrl)
        {
            return storedUrl;
        }

        throw new EdgectlException(
            $"not logged in: no API given. Run 'edgectl login --api URL', or pass --api and set {ApiOption.TokenVariable}.", ExitCodes.Unauthenticated);
    }
}
