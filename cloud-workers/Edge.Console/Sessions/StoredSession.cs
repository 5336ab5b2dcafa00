namespace Edge.Console.Sessions;

/// <summary>
/// A signed-in user's tokens, kept on the server (never in the browser): the cookie carries only the session id. Local
/// sessions refresh through the API; OIDC sessions through the identity provider.
/// </summary>
internal sealed record StoredSession(
    string Id, string Source, string Subject, string Username, string? DisplayName, IReadOnlyList<string> Roles,
    IReadOnlyList<string> Clinics, string AccessToken, DateTimeOffset ExpiresAt, string? RefreshToken,
    DateTimeOffset? RefreshExpiresAt)
{
    public const string Local = "local";

    public const string Oidc = "oidc";

    /// <summary>When the session can no longer be used, refreshed or not.</summary>
    public DateTimeOffset EndsAt => RefreshToken is null ? ExpiresAt : RefreshExpiresAt ?? ExpiresAt;
}
