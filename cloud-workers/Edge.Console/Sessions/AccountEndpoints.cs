using Edge.Console.Api;
using Edge.Console.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Antiforgery;

namespace Edge.Console.Sessions;

/// <summary>
/// Sign-in and sign-out as form posts (antiforgery checked by <c>UseAntiforgery</c>): the tokens the API issues go
/// into a server-side session and the browser gets only the session's cookie.
/// </summary>
internal static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // Both forms carry an antiforgery token; the middleware checks it and the handlers refuse before reading the form.
        app.MapPost("/account/sign-in", SignInAsync).AllowAnonymous().WithMetadata(new RequireAntiforgeryTokenAttribute());
        app.MapPost("/account/sign-out", SignOutAsync).RequireAuthorization().WithMetadata(new RequireAntiforgeryTokenAttribute());
        app.MapGet("/account/sign-in-oidc", (string? returnUrl, ConsoleOptions options) =>
            SignInSetup.OidcEnabled(options)
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, [OidcRefresher.Scheme])
                : Results.NotFound()).AllowAnonymous();
    }

    private static async Task<IResult> SignInAsync(
        HttpContext context, AuthApi auth, SessionStore store, ConsoleOptions options, ILogger<SessionStore> logger, CancellationToken cancellationToken)
    {
        if (Forged(context))
        {
            return Refused();
        }
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var (username, password) = (form["username"].ToString(), form["password"].ToString());
        var back = LocalOrHome(form["returnUrl"].ToString());
        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrEmpty(password))
        {
            return Results.Redirect($"/sign-in?error=missing&returnUrl={Uri.EscapeDataString(back)}");
        }
        TokenResponse? tokens;
        System.Net.HttpStatusCode status;
        try
        {
            (tokens, status) = await auth.SignInAsync(username.Trim(), password, cancellationToken);
        }
        catch (HttpRequestException error)
        {
            Log.ApiUnreachable(logger, options.ApiUrl!, error);
            return Results.Redirect($"/sign-in?error=unreachable&returnUrl={Uri.EscapeDataString(back)}");
        }
        if (tokens is null)
        {
            Log.SignInRefused(logger, username.Trim(), (int)status);
            var error = status == System.Net.HttpStatusCode.TooManyRequests ? "busy" : "refused";
            return Results.Redirect($"/sign-in?error={error}&returnUrl={Uri.EscapeDataString(back)}");
        }
        var session = store.Create(StoredSession.Local, tokens.User.Id, tokens.User.Username, tokens.User.DisplayName, tokens.User.Roles,
            tokens.User.Clinics, tokens.AccessToken, tokens.ExpiresAt, tokens.RefreshToken, tokens.RefreshExpiresAt);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            SessionClaims.Principal(session, CookieAuthenticationDefaults.AuthenticationScheme),
            new AuthenticationProperties { IsPersistent = false, ExpiresUtc = session.EndsAt });
        Log.SignedIn(logger, session.Username, session.Subject);
        return Results.LocalRedirect(back);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, SessionStore store, AuthApi auth, ILogger<SessionStore> logger, CancellationToken cancellationToken)
    {
        if (Forged(context))
        {
            return Refused();
        }
        if (store.Find(SignInSetup.SessionIdOf(context.User)) is { } session)
        {
            store.Remove(session.Id);
            if (session is { Source: StoredSession.Local, RefreshToken: { } refresh })
            {
                try
                {
                    await auth.SignOutAsync(session.AccessToken, refresh, cancellationToken);
                }
                catch (HttpRequestException)
                {
                    // The session is gone here either way; the refresh token lapses at its expiry.
                }
            }
            Log.SignedOut(logger, session.Subject);
        }
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Redirect("/sign-in?signedOut=1");
    }

    /// <summary>A post without a valid antiforgery token (another site's form, or a replayed one).</summary>
    private static bool Forged(HttpContext context) => context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: true };

    private static IResult Refused() => Results.Text("The form was refused: it did not carry this console's antiforgery token.", statusCode: StatusCodes.Status400BadRequest);

    /// <summary>Only a path of this site: a sign-in link must not send the user elsewhere afterwards.</summary>
    private static string LocalOrHome(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
