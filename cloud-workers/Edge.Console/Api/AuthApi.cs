using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Edge.Console.Api;

/// <summary>The API's sign-in endpoints (<c>/v1/auth/…</c>), called without a user token (or with the one being revoked).</summary>
internal sealed class AuthApi(HttpClient http)
{
    /// <summary>Exchanges a username and password for tokens; null with the status when the API refuses.</summary>
    public async Task<(TokenResponse? Tokens, HttpStatusCode Status)> SignInAsync(string username, string password, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("v1/auth/token", new { username, password }, ApiJson.Options, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (null, response.StatusCode);
        }
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(ApiJson.Options, cancellationToken), response.StatusCode);
    }

    /// <summary>New tokens for a refresh token (which rotates); null when the API refuses it.</summary>
    public async Task<TokenResponse?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("v1/auth/refresh", new { refresh_token = refreshToken }, ApiJson.Options, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<TokenResponse>(ApiJson.Options, cancellationToken);
    }

    /// <summary>Revokes the refresh token; the access token lapses on its own within minutes.</summary>
    public async Task SignOutAsync(string accessToken, string refreshToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/auth/sign-out")
        {
            Content = JsonContent.Create(new { refresh_token = refreshToken }, options: ApiJson.Options),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
    }
}
