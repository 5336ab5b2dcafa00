using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Edge.Console.Sessions;

/// <summary>
/// An open page (a Blazor circuit) keeps its user only while the session lasts: signing out in another tab, or a
/// refused refresh, signs this page out within a minute.
/// </summary>
internal sealed class SessionRevalidation(ILoggerFactory loggers, SessionStore store) : RevalidatingServerAuthenticationStateProvider(loggers)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken cancellationToken) =>
        Task.FromResult(state.User.Identity?.IsAuthenticated != true || store.Find(SignInSetup.SessionIdOf(state.User)) is not null);
}
