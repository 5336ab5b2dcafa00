using System.Text.RegularExpressions;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;

namespace Edge.Api.Accounts;

/// <summary>
/// Sign-in for local accounts: a username and password for an access token (15 min) and a refresh token (rotated on
/// use, a sign-in lasting 12 h). A wrong password, an unknown user, a disabled or a locked account all get the same 401
/// body; the audit log says which. In OIDC mode every one of these answers 404.
/// </summary>
internal static partial class SignInEndpoints
{
    /// <summary>The one refusal of a sign-in or refresh, byte for byte the same whatever the reason.</summary>
    internal const string RefusalJson =
        """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"Sign-in refused.","status":401,"detail":"The username or password is wrong, or the account is locked or disabled."}""";

    private const string UnknownUsername = "(not a username)";

    public static void MapSignInEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Accounts").AddEndpointFilter(AccountsOnly);
        app.MapPost("/v1/auth/token", SignInAsync).AllowAnonymous()
            .WithName("SignIn").WithSummary("Signs a local account in: an access token and a refresh token.")
            .WithDescription("Takes no token: the username and password are the credential. Answers a short-lived access token (the same claims as any other token) and a refresh token. A wrong username or password is 401 (repeated failures lock the account for a while); 404 when accounts live in an OIDC identity provider.")
            .Produces<TokenResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/auth/refresh", RefreshAsync).AllowAnonymous()
            .WithName("RefreshToken").WithSummary("Swaps a refresh token for new tokens; the old refresh token stops working.")
            .WithDescription("Takes no token: the refresh token is the credential. Answers new tokens and ends the old refresh token; a rotated refresh token that comes back revokes the whole sign-in (401). 404 in OIDC mode.")
            .Produces<TokenResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/auth/sign-out", SignOutAsync).RequireAuthorization(ApiPolicies.Self)
            .WithName("SignOut").WithSummary("Ends the sign-in the refresh token belongs to.")
            .WithDescription("Revokes the sign-in the refresh token belongs to when it is the caller's own; its access tokens expire on their own. Anyone else's or an unknown refresh token is answered the same 204 and changes nothing. 404 in OIDC mode.")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Answers 404 in OIDC mode: there, accounts and their passwords live in the identity provider.</summary>
    internal static async ValueTask<object?> AccountsOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.RequestServices.GetRequiredService<AccountSessions>().Enabled
            ? await next(context)
            : Problems.NotFound("Local accounts are off: Api:Auth:Authority is set, so users sign in with the identity provider.");

    [GeneratedRegex("^[a-z0-9._@-]{1,64}$")]
    internal static partial Regex UsernameFormat();

    private static async Task<IResult> SignInAsync(
        SignInRequest request, HttpContext http, AccountStore store, AccountSessions sessions, Passwords passwords, AuditTrail audit, TimeProvider time,
        ILogger<AccountStore> logger, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.Username))
        {
            errors.Add("username", "is required");
        }
        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "is required");
        }
        else if (request.Password.Length > Passwords.MaximumLength)
        {
            // No account has a longer password, so this says nothing about the username.
            errors.Add("password", $"is at most {Passwords.MaximumLength} characters");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var username = request.Username!.Trim().ToLowerInvariant();
        var password = request.Password!;
        var address = AddressOf(http);
        var now = time.GetUtcNow();
        var options = sessions.Options;

        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var account = UsernameFormat().IsMatch(username) ? await AccountStore.FindByUsernameAsync(connection, transaction, username, cancellationToken) : null;
        if (account is null)
        {
            passwords.VerifyNobody(password);
            return await RefuseAsync(null, UsernameFormat().IsMatch(username) ? username : UnknownUsername, "unknown_user");
        }

        var user = account.User;
        // The password is checked whatever the account's state, so a disabled or locked account answers in the same time.
        var matches = passwords.Verify(account.PasswordHash, password, out var rehash);
        if (user.Disabled)
        {
            return await RefuseAsync(user, user.Username, "disabled");
        }
        if (user.LockedUntil > now)
        {
            return await RefuseAsync(user, user.Username, "locked");
        }
        if (!matches)
        {
            // A lock that has run out starts the count again.
            var failed = (user.LockedUntil is null ? user.FailedAttempts : 0) + 1;
            if (failed < options.MaxFailedAttempts)
            {
                await AccountStore.SetAttemptsAsync(connection, transaction, user.Id, failed, null, cancellationToken);
                return await RefuseAsync(user, user.Username, "wrong_password");
            }
            var lockedUntil = now + options.LockoutDuration;
            await AccountStore.SetAttemptsAsync(connection, transaction, user.Id, 0, lockedUntil, cancellationToken);
            await audit.RecordAsync(connection, transaction, sessions.ActorOf(user),
                new AuditRecord("auth.lockout", "user", user.Id.ToString(), null, null,
                    AuditTrail.Json(new SignInAudit(user.Username, "locked", address, lockedUntil), ApiJsonContext.Default.SignInAudit)), cancellationToken);
            Log.AccountLocked(logger, user.Username, lockedUntil, failed, address);
            return await RefuseAsync(user, user.Username, "wrong_password");
        }

        if (user.FailedAttempts != 0 || user.LockedUntil is not null)
        {
            await AccountStore.SetAttemptsAsync(connection, transaction, user.Id, 0, null, cancellationToken);
        }
        if (rehash)
        {
            await AccountStore.SetPasswordAsync(connection, transaction, user.Id, passwords.Hash(password), user.UpdatedAt, user.UpdatedBy, cancellationToken);
        }
        // Whole seconds, like the access token's expiry, so the time a client is told is exactly the one stored.
        var signInEnds = AccountSessions.WholeSeconds(now) + options.RefreshTokenLifetime;
        var tokens = await sessions.IssueAsync(connection, transaction, user, Guid.CreateVersion7(), now, signInEnds, cancellationToken);
        await audit.RecordAsync(connection, transaction, sessions.ActorOf(user),
            new AuditRecord("auth.sign_in", "user", user.Id.ToString(), null, null,
                AuditTrail.Json(new SignInAudit(user.Username, "ok", address), ApiJsonContext.Default.SignInAudit)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(tokens);

        async Task<IResult> RefuseAsync(User? who, string name, string reason)
        {
            await audit.RecordAsync(connection, transaction, sessions.ActorOf(who),
                new AuditRecord("auth.sign_in_refused", "user", who?.Id.ToString() ?? name, null, null,
                    AuditTrail.Json(new SignInAudit(name, reason, address, who?.LockedUntil > now ? who.LockedUntil : null), ApiJsonContext.Default.SignInAudit)),
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            Log.SignInRefused(logger, name, reason, address);
            return Refusal();
        }
    }

    private static async Task<IResult> RefreshAsync(
        RefreshRequest request, HttpContext http, AccountStore store, AccountSessions sessions, AuditTrail audit, TimeProvider time,
        ILogger<AccountStore> logger, CancellationToken cancellationToken)
    {
        if (RefreshTokenError(request.RefreshToken) is { } error)
        {
            return Problems.BadParameter("refresh_token", error);
        }
        var now = time.GetUtcNow();
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var stored = await AccountStore.FindRefreshTokenAsync(connection, transaction, RefreshTokenValue.Sha256(request.RefreshToken!), cancellationToken);
        if (stored is null || stored.RevokedAt is not null)
        {
            return Refusal();
        }
        var account = await AccountStore.FindByIdAsync(connection, transaction, stored.UserId, cancellationToken);
        if (stored.RotatedAt is not null)
        {
            // Only one party can hold the newest token of a sign-in: a rotated one coming back means two parties hold
            // this sign-in (a stolen token, or the thief's copy came first). Neither keeps it; the user signs in again.
            var revoked = await AccountStore.RevokeFamilyAsync(connection, transaction, stored.FamilyId, now, "reuse", cancellationToken);
            var username = account?.User.Username ?? stored.UserId.ToString();
            var address = AddressOf(http);
            await audit.RecordAsync(connection, transaction, sessions.ActorOf(account?.User),
                new AuditRecord("auth.refresh_reuse", "user", stored.UserId.ToString(), null, null,
                    AuditTrail.Json(new SignInAudit(username, "revoked", address, RevokedTokens: revoked), ApiJsonContext.Default.SignInAudit)), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            Log.RefreshTokenReused(logger, username, revoked, address);
            return Refusal();
        }
        if (stored.ExpiresAt <= now || account is null || account.User.Disabled)
        {
            return Refusal();
        }
        await AccountStore.MarkRotatedAsync(connection, transaction, stored.Id, now, cancellationToken);
        // The new token ends when the sign-in does: rotating never makes a sign-in last longer.
        var tokens = await sessions.IssueAsync(connection, transaction, account.User, stored.FamilyId, now, stored.ExpiresAt, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(tokens);
    }

    private static async Task<IResult> SignOutAsync(
        RefreshRequest request, Caller caller, HttpContext http, AccountStore store, AccountSessions sessions, AuditTrail audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (RefreshTokenError(request.RefreshToken) is { } error)
        {
            return Problems.BadParameter("refresh_token", error);
        }
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var stored = await AccountStore.FindRefreshTokenAsync(connection, transaction, RefreshTokenValue.Sha256(request.RefreshToken!), cancellationToken);
        // Only the caller's own sign-in ends; anyone else's token (or an unknown one) is answered the same, changing nothing.
        if (stored is not null && stored.UserId.ToString() == caller.Subject)
        {
            var revoked = await AccountStore.RevokeFamilyAsync(connection, transaction, stored.FamilyId, time.GetUtcNow(), "sign-out", cancellationToken);
            await audit.RecordAsync(connection, transaction, caller,
                new AuditRecord("auth.sign_out", "user", stored.UserId.ToString(), null, null,
                    AuditTrail.Json(new SignInAudit(http.User.FindFirst("name")?.Value ?? caller.Subject, "signed_out", AddressOf(http), RevokedTokens: revoked),
                        ApiJsonContext.Default.SignInAudit)), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return TypedResults.NoContent();
    }

    private static string? RefreshTokenError(string? token) =>
        string.IsNullOrEmpty(token) ? "is required"
        : token.Length > RefreshTokenValue.MaxLength ? $"is at most {RefreshTokenValue.MaxLength} characters"
        : null;

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult Refusal() => TypedResults.Text(RefusalJson, "application/problem+json", System.Text.Encoding.UTF8, StatusCodes.Status401Unauthorized);

    /// <summary>The client's address for the audit log and the log (the connection's: behind a proxy, the proxy's).</summary>
    internal static string AddressOf(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : "unknown";
}
