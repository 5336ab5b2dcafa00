using System.Text.Json;
using Edge.Console.Api;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Edge.Console.Sessions;

/// <summary>Refreshes an OIDC session's access token at the identity provider's token endpoint (refresh_token grant).</summary>
internal sealed class OidcRefresher(IOptionsMonitor<OpenIdConnectOptions> monitor, IHttpClientFactory clients, TimeProvider time)
{
    public const string Scheme = OpenIdConnectDefaults.AuthenticationScheme;

    public async Task<TokenResponse?> RefreshAsync(StoredSession session, CancellationToken cancellationToken)
    {
        var options = monitor.Get(Scheme);
        if (options.ConfigurationManager is null || session.RefreshToken is null)
        {
            return null;
        }
        var configuration = await options.ConfigurationManager.GetConfigurationAsync(cancellationToken);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = session.RefreshToken,
            ["client_id"] = options.ClientId!,
        };
        if (options.ClientSecret is { Length: > 0 } secret)
        {
            form["client_secret"] = secret;
        }
        using var http = clients.CreateClient(Scheme);
        using var content = new FormUrlEncodedContent(form);
        using var response = await http.PostAsync(new Uri(configuration.TokenEndpoint), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }
        using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = body.RootElement;
        var accessToken = root.GetProperty("access_token").GetString()!;
        var expiresIn = root.TryGetProperty("expires_in", out var seconds) ? seconds.GetInt32() : 300;
        // Providers that do not rotate refresh tokens answer without one: the old one stays valid.
        var refreshToken = root.TryGetProperty("refresh_token", out var rotated) ? rotated.GetString() : session.RefreshToken;
        var user = new ApiUser(session.Subject, session.Username, session.DisplayName, session.Roles, session.Clinics);
        return new TokenResponse(accessToken, "Bearer", time.GetUtcNow().AddSeconds(expiresIn), refreshToken!, session.RefreshExpiresAt ?? time.GetUtcNow().AddHours(8), user);
    }
}
