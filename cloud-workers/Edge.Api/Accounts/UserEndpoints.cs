using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Npgsql;

namespace Edge.Api.Accounts;

/// <summary>
/// Admins manage local accounts: create, list, read, change (display name, roles, clinics, disabled), set a password,
/// unlock. Only global admins exist: no clinic admin can grant a role or a clinic. A change of roles, clinics or
/// password, or disabling, ends the user's sign-ins (their refresh tokens); their access token lasts at most its
/// 15 minutes.
/// </summary>
internal static class UserEndpoints
{
    public static void MapUserEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Accounts").AddEndpointFilter(SignInEndpoints.AccountsOnly);
        app.MapGet("/v1/users", ListUsersAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("ListUsers").WithSummary("Local accounts by username, filtered by clinic, role, disabled and username.")
            .WithDescription("Local accounts by username, filtered by clinic, role, disabled and username; never their password hashes. Keyset-paged with limit and cursor. 404 in OIDC mode.").Produces<Page<User>>().ProducesValidationProblem();
        app.MapPost("/v1/users", CreateUserAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("CreateUser").WithSummary("Creates a local account.")
            .WithDescription("username (1-64 of a-z, 0-9, '.', '_', '-' and '@'), display_name, a password of 12 to 128 characters, roles (admin, technician, clinician, auditor) and clinics (required unless the user is an admin). 201; a taken username is 409. 404 in OIDC mode.")
            .Produces<User>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        app.MapGet("/v1/users/{id:guid}", GetUserAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("GetUser").WithSummary("One local account.")
            .WithDescription("404 for an unknown id, or in OIDC mode.").Produces<User>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPatch("/v1/users/{id:guid}", UpdateUserAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("UpdateUser").WithSummary("Changes a local account's display name, roles, clinics or disabled state.")
            .WithDescription("Only the fields sent change: display_name, roles, clinics, disabled. Disabling an account or changing its roles or clinics ends its sign-ins. 409 when admins would disable themselves or take away their own admin role (another admin can). 404 for an unknown id, or in OIDC mode.")
            .Produces<User>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/v1/users/{id:guid}/password", SetPasswordAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("SetUserPassword").WithSummary("Sets a local account's password; ends its sign-ins.")
            .WithDescription("An admin sets a new password (12 to 128 characters); every sign-in of the account ends. 204; 404 for an unknown id, or in OIDC mode.")
            .Produces(StatusCodes.Status204NoContent).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/users/{id:guid}/unlock", UnlockUserAsync).RequireAuthorization(ApiPolicies.UsersManage)
            .WithName("UnlockUser").WithSummary("Clears a local account's lockout and failed attempts.")
            .WithDescription("Clears the lockout and the count of failed sign-ins, and answers the account. 404 for an unknown id, or in OIDC mode.").Produces<User>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListUsersAsync(
        AccountStore store, string? clinic, string? role, bool? disabled, string? username, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (role is not null && !UserRules.Roles.Contains(role))
        {
            errors.Add("role", $"must be one of {string.Join(", ", UserRules.Roles)}");
        }
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var rows = await store.ListAsync(clinic, role, disabled, username?.Trim().ToLowerInvariant(), after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(rows, take, u => u.Username));
    }

    private static async Task<IResult> CreateUserAsync(
        CreateUserRequest request, Caller caller, AccountStore store, Passwords passwords, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var (user, refusal) = await CreateAsync(request, caller, store, passwords, audit, time, cancellationToken);
        return refusal ?? TypedResults.Created($"/v1/users/{user!.Id}", user);
    }

    /// <summary>
    /// Checks and creates an account, audited as <paramref name="caller"/>'s: the user, or the refusal to answer with
    /// (400 naming the field, 409 for a taken username). <c>edge-api user add</c> creates the first admin through here too.
    /// </summary>
    internal static async Task<(User? User, IResult? Refusal)> CreateAsync(
        CreateUserRequest request, Caller caller, AccountStore store, Passwords passwords, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var username = UserRules.Username(request.Username, errors);
        var displayName = UserRules.DisplayName(request.DisplayName, errors);
        if (Passwords.Refusal(request.Password, username) is { } refusal)
        {
            errors.Add("password", refusal);
        }
        var roles = UserRules.RoleList(request.Roles, errors);
        var clinics = UserRules.ClinicList(request.Clinics, roles, errors);
        if (errors.Any)
        {
            return (null, errors.ToResult());
        }

        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await MissingClinicsAsync(connection, transaction, clinics, cancellationToken) is { } missing)
        {
            return (null, missing);
        }
        var now = time.GetUtcNow();
        var user = new User(Guid.CreateVersion7(), username!, displayName!, roles, clinics, false, 0, null, now, caller.Subject, now, caller.Subject);
        if (!await AccountStore.InsertAsync(connection, transaction, user, passwords.Hash(request.Password!), cancellationToken))
        {
            return (null, Problems.Conflict($"The username {username} is taken."));
        }
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("user.create", "user", user.Id.ToString(), null, null, AuditTrail.Json(user, ApiJsonContext.Default.User)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (user, null);
    }

    private static async Task<IResult> GetUserAsync(Guid id, AccountStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } user ? TypedResults.Ok(user) : Problems.NotFound($"No user {id}.");

    private static async Task<IResult> UpdateUserAsync(
        Guid id, UpdateUserRequest request, Caller caller, AccountStore store, AuditTrail audit, TimeProvider time, ILogger<AccountStore> logger,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var displayName = request.DisplayName is null ? null : UserRules.DisplayName(request.DisplayName, errors);
        var roles = request.Roles is null ? null : UserRules.RoleList(request.Roles, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = (await AccountStore.FindByIdAsync(connection, transaction, id, cancellationToken))?.User;
        if (before is null)
        {
            return Problems.NotFound($"No user {id}.");
        }
        roles ??= [.. before.Roles];
        var clinics = UserRules.ClinicList(request.Clinics ?? [.. before.Clinics], roles, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        if (await MissingClinicsAsync(connection, transaction, clinics, cancellationToken) is { } missing)
        {
            return missing;
        }
        var disabled = request.Disabled ?? before.Disabled;
        // An admin cannot lock themselves out by mistake; another admin (or edge-api user add) can change them.
        if (before.Id.ToString() == caller.Subject && (disabled || !roles.Contains(ApiRoles.Admin)))
        {
            return Problems.Conflict("You cannot disable yourself or take away your own admin role; another admin can.");
        }

        var after = before with
        {
            DisplayName = displayName ?? before.DisplayName,
            Roles = roles,
            Clinics = clinics,
            Disabled = disabled,
            UpdatedAt = time.GetUtcNow(),
            UpdatedBy = caller.Subject,
        };
        await AccountStore.UpdateAsync(connection, transaction, after, cancellationToken);
        var endsSignIns = !before.Roles.SequenceEqual(after.Roles) || !before.Clinics.SequenceEqual(after.Clinics) || (after.Disabled && !before.Disabled);
        var revoked = endsSignIns ? await AccountStore.RevokeUserAsync(connection, transaction, id, after.UpdatedAt, "user changed", cancellationToken) : 0;
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("user.update", "user", id.ToString(), null,
                AuditTrail.Json(before, ApiJsonContext.Default.User), AuditTrail.Json(after, ApiJsonContext.Default.User)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.UserChanged(logger, after.Username, id, "updated", caller.Subject, revoked);
        return TypedResults.Ok(after);
    }

    private static async Task<IResult> SetPasswordAsync(
        Guid id, SetPasswordRequest request, Caller caller, AccountStore store, Passwords passwords, AuditTrail audit, TimeProvider time,
        ILogger<AccountStore> logger, CancellationToken cancellationToken)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var user = (await AccountStore.FindByIdAsync(connection, transaction, id, cancellationToken))?.User;
        if (user is null)
        {
            return Problems.NotFound($"No user {id}.");
        }
        if (Passwords.Refusal(request.Password, user.Username) is { } refusal)
        {
            return Problems.BadParameter("password", refusal);
        }
        var revoked = await ReplacePasswordAsync(connection, transaction, user, passwords.Hash(request.Password!), caller, audit, time, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.UserChanged(logger, user.Username, id, "given a new password", caller.Subject, revoked);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> UnlockUserAsync(
        Guid id, Caller caller, AccountStore store, AuditTrail audit, TimeProvider time, ILogger<AccountStore> logger, CancellationToken cancellationToken)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = (await AccountStore.FindByIdAsync(connection, transaction, id, cancellationToken))?.User;
        if (before is null)
        {
            return Problems.NotFound($"No user {id}.");
        }
        await AccountStore.SetAttemptsAsync(connection, transaction, id, 0, null, cancellationToken);
        var after = before with { FailedAttempts = 0, LockedUntil = null };
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("user.unlock", "user", id.ToString(), null,
                AuditTrail.Json(before, ApiJsonContext.Default.User), AuditTrail.Json(after, ApiJsonContext.Default.User)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.UserChanged(logger, after.Username, id, "unlocked", caller.Subject, 0);
        return TypedResults.Ok(after);
    }

    /// <summary>Stores the new hash, ends every sign-in of the user and audits it (without the hash); returns how many tokens ended.</summary>
    internal static async Task<int> ReplacePasswordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, User user, string hash, Caller caller, AuditTrail audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await AccountStore.SetPasswordAsync(connection, transaction, user.Id, hash, now, caller.Subject, cancellationToken);
        var revoked = await AccountStore.RevokeUserAsync(connection, transaction, user.Id, now, "password changed", cancellationToken);
        await audit.RecordAsync(connection, transaction, caller,
            new AuditRecord("user.password", "user", user.Id.ToString(), null, null,
                AuditTrail.Json(new PasswordAudit(user.Id, user.Username, revoked), ApiJsonContext.Default.PasswordAudit)), cancellationToken);
        return revoked;
    }

    private static async Task<IResult?> MissingClinicsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] clinics, CancellationToken cancellationToken)
    {
        var missing = clinics.Length == 0 ? [] : await AccountStore.MissingClinicsAsync(connection, transaction, clinics, cancellationToken);
        return missing.Count == 0 ? null : Problems.BadParameter("clinics", $"no clinic {string.Join(", ", missing)}");
    }
}
