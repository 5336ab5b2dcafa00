using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;

namespace Edge.Api.Accounts;

/// <summary>The signed-in caller about themselves: who the token says they are, and changing their own password.</summary>
internal static class MeEndpoints
{
    public static void MapMeEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Accounts");
        app.MapGet("/v1/me", GetMeAsync).RequireAuthorization(ApiPolicies.Self)
            .WithName("GetMe").WithSummary("The caller: subject, roles and clinics from the token; username and display name for a local account.")
            .WithDescription("What the API read from the caller's token (subject, roles, clinics), plus the username and display name when it is a local account's. Works with any valid token, in both authentication modes.").Produces<Me>();
        app.MapPost("/v1/me/password", ChangePasswordAsync).RequireAuthorization(ApiPolicies.Self).AddEndpointFilter(SignInEndpoints.AccountsOnly)
            .WithName("ChangeOwnPassword").WithSummary("Changes the caller's own password; ends their sign-ins.")
            .WithDescription("The current password and a new one (12 to 128 characters). Ends every sign-in of the account. 204; 400 names the field (a wrong current password names current_password); 404 for a token that is not a local account's, or in OIDC mode.")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> GetMeAsync(Caller caller, AccountStore store, AccountSessions sessions, CancellationToken cancellationToken)
    {
        // Roles and clinics are the token's, which is what every endpoint decides by; the account only adds names.
        var user = sessions.Enabled && Guid.TryParse(caller.Subject, out var id) ? await store.GetAsync(id, cancellationToken) : null;
        return TypedResults.Ok(new Me(caller.Subject, user?.Username, user?.DisplayName, caller.Roles, caller.Clinics));
    }

    private static async Task<IResult> ChangePasswordAsync(
        ChangeOwnPasswordRequest request, Caller caller, HttpContext http, AccountStore store, AccountSessions sessions, Passwords passwords, AuditTrail audit,
        TimeProvider time, ILogger<AccountStore> logger, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.CurrentPassword) || request.CurrentPassword.Length > Passwords.MaximumLength)
        {
            errors.Add("current_password", $"is required (at most {Passwords.MaximumLength} characters)");
        }
        if (string.IsNullOrEmpty(request.NewPassword))
        {
            errors.Add("new_password", "is required");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var account = Guid.TryParse(caller.Subject, out var id) ? await AccountStore.FindByIdAsync(connection, transaction, id, cancellationToken) : null;
        if (account is null)
        {
            return Problems.NotFound("Your token is not a local account's (it came from edge-api token); there is no password to change.");
        }
        var user = account.User;
        var now = time.GetUtcNow();
        var options = sessions.Options;
        // A stolen access token must not become a way to guess the password: wrong guesses here count toward the lockout.
        if (user.Disabled || user.LockedUntil > now)
        {
            return Problems.Forbidden("The account is locked or disabled.");
        }
        if (!passwords.Verify(account.PasswordHash, request.CurrentPassword!, out _))
        {
            var failed = (user.LockedUntil is null ? user.FailedAttempts : 0) + 1;
            var lockedUntil = failed >= options.MaxFailedAttempts ? now + options.LockoutDuration : (DateTimeOffset?)null;
            await AccountStore.SetAttemptsAsync(connection, transaction, user.Id, lockedUntil is null ? failed : 0, lockedUntil, cancellationToken);
            await audit.RecordAsync(connection, transaction, caller,
                new AuditRecord(lockedUntil is null ? "auth.password_refused" : "auth.lockout", "user", user.Id.ToString(), null, null,
                    AuditTrail.Json(new SignInAudit(user.Username, "wrong_password", SignInEndpoints.AddressOf(http), lockedUntil), ApiJsonContext.Default.SignInAudit)),
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (lockedUntil is { } until)
            {
                Log.AccountLocked(logger, user.Username, until, failed, SignInEndpoints.AddressOf(http));
            }
            return Problems.BadParameter("current_password", "is not your current password");
        }
        if (Passwords.Refusal(request.NewPassword, user.Username) is { } refusal)
        {
            return Problems.BadParameter("new_password", refusal);
        }
        var revoked = await UserEndpoints.ReplacePasswordAsync(connection, transaction, user, passwords.Hash(request.NewPassword!), caller, audit, time, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.UserChanged(logger, user.Username, user.Id, "changed their password", caller.Subject, revoked);
        return TypedResults.NoContent();
    }
}
