using System.Security.Claims;
using Edge.Console.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Edge.Console.Sessions;

/// <summary>
/// Who may use the console: a cookie naming a server-side session (HttpOnly, SameSite=Lax, Secure over https), filled by
/// the local sign-in form or by OpenID Connect (authorization code + PKCE) when <c>Console:Oidc:Authority</c> is set.
/// </summary>
internal static class SignInSetup
{
    public const string CookieName = "edge-console";

    public static void AddConsoleSignIn(this WebApplicationBuilder builder, ConsoleOptions options)
    {
        var authentication = builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.LoginPath = "/sign-in";
                cookie.AccessDeniedPath = "/denied";
                cookie.SlidingExpiration = false;
                cookie.Events.OnValidatePrincipal = async context =>
                {
                    // The cookie is only as good as its session: signed out, refused a refresh or expired means signed out.
                    var store = context.HttpContext.RequestServices.GetRequiredService<SessionStore>();
                    if (store.Find(context.Principal?.FindFirst(SessionClaims.SessionId)?.Value) is null)
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                    }
                };
            });
        builder.Services.AddAuthorization();
        builder.Services.AddHttpClient(OidcRefresher.Scheme);

        if (options.Oidc.Authority is not { } authority)
        {
            return;
        }
        authentication.AddOpenIdConnect(OidcRefresher.Scheme, oidc =>
        {
            oidc.Authority = authority.ToString();
            oidc.ClientId = options.Oidc.ClientId;
            if (options.Oidc.ClientSecretFile is { Length: > 0 } secretFile)
            {
                oidc.ClientSecret = File.ReadAllText(secretFile).Trim();
            }
            oidc.ResponseType = OpenIdConnectResponseType.Code;
            oidc.UsePkce = true;
            oidc.RequireHttpsMetadata = options.Oidc.RequireHttpsMetadata;
            oidc.MapInboundClaims = false;
            oidc.SaveTokens = false;
            oidc.CallbackPath = "/signin-oidc";
            oidc.Scope.Clear();
            foreach (var scope in options.Oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                oidc.Scope.Add(scope);
            }
            oidc.Events.OnTokenValidated = context =>
            {
                var response = context.TokenEndpointResponse!;
                var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
                var store = context.HttpContext.RequestServices.GetRequiredService<SessionStore>();
                // Roles and clinics as the API will read them: from the access token the API is handed.
                // (A provider with opaque access tokens: the ID token's claims.)
                var reader = new JsonWebTokenHandler();
                var accessClaims = reader.CanReadToken(response.AccessToken) ? reader.ReadJsonWebToken(response.AccessToken).Claims : [];
                var claims = accessClaims.Concat(context.Principal!.Claims).ToList();
                string? First(string type) => claims.FirstOrDefault(c => c.Type == type)?.Value;
                var subject = First("sub") ?? "unknown";
                var username = First("preferred_username") ?? First("cognito:username") ?? First("email") ?? subject;
                var expiresIn = int.TryParse(response.ExpiresIn, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : 300;
                var session = store.Create(StoredSession.Oidc, subject, username, First("name"),
                    claims.Where(c => c.Type == options.Oidc.RoleClaim).Select(c => c.Value).Distinct().ToList(),
                    claims.Where(c => c.Type == options.Oidc.ClinicClaim).Select(c => c.Value).Distinct().ToList(),
                    response.AccessToken, time.GetUtcNow().AddSeconds(expiresIn), response.RefreshToken,
                    response.RefreshToken is null ? null : time.GetUtcNow().AddHours(12));
                context.Principal = SessionClaims.Principal(session, CookieAuthenticationDefaults.AuthenticationScheme);
                context.Properties!.ExpiresUtc = session.EndsAt;
                Log.SignedInOidc(context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Console"), subject, authority.ToString());
                return Task.CompletedTask;
            };
        });
    }

    /// <summary>Whether single sign-on is configured (the sign-in page then offers it).</summary>
    public static bool OidcEnabled(ConsoleOptions options) => options.Oidc.Authority is not null;

    internal static string? SessionIdOf(ClaimsPrincipal user) => user.FindFirst(SessionClaims.SessionId)?.Value;
}
