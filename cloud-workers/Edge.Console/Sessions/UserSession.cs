using Edge.Console.Api;
using Edge.Console.Hosting;
using Microsoft.AspNetCore.Components.Authorization;

namespace Edge.Console.Sessions;

/// <summary>
/// The signed-in user's access token for this scope (a request or a Blazor circuit), refreshed shortly before it
/// expires. The session id comes from the authentication state, or from an endpoint that read its cookie.
/// </summary>
internal sealed class UserSession(
    AuthenticationStateProvider authentication, SessionStore store, AuthApi auth, OidcRefresher oidc, ConsoleOptions options,
    TimeProvider time, ILogger<UserSession> logger)
{
    private string? _sessionId;

    /// <summary>For minimal-API endpoints, which have the cookie's principal but no Blazor authentication state.</summary>
    public void UseSession(string? sessionId) => _sessionId = sessionId;

    public async Task<StoredSession> CurrentAsync()
    {
        var id = _sessionId;
        if (id is null)
        {
            var state = await authentication.GetAuthenticationStateAsync();
            id = state.User.FindFirst(SessionClaims.SessionId)?.Value;
        }
        return store.Find(id) ?? throw new SessionEndedException();
    }

    /// <summary>A token the API accepts now: refreshed (once, under the session's lock) when it is about to expire.</summary>
    public async Task<string> AccessTokenAsync(CancellationToken cancellationToken)
    {
        var session = await CurrentAsync();
        if (!NeedsRefresh(session))
        {
            return session.AccessToken;
        }
        var gate = store.RefreshLock(session.Id);
        await gate.WaitAsync(cancellationToken);
        try
        {
            session = store.Find(session.Id) ?? throw new SessionEndedException();
            if (!NeedsRefresh(session))
            {
                return session.AccessToken;
            }
            if (session.RefreshToken is null)
            {
                throw new SessionEndedException();
            }
            var tokens = session.Source == StoredSession.Oidc
                ? await oidc.RefreshAsync(session, cancellationToken)
                : await auth.RefreshAsync(session.RefreshToken, cancellationToken);
            if (tokens is null)
            {
                Log.RefreshRefused(logger, session.Subject);
                store.Remove(session.Id);
                throw new SessionEndedException();
            }
            return store.Update(session, tokens).AccessToken;
        }
        finally
        {
            gate.Release();
        }
    }

    private bool NeedsRefresh(StoredSession session) =>
        session.ExpiresAt - time.GetUtcNow() <= TimeSpan.FromSeconds(options.RefreshBeforeExpirySeconds);
}
