namespace Edge.Api.Accounts;

/// <summary>A local user account as the admin endpoints show it; never the password hash.</summary>
internal sealed record User(
    Guid Id, string Username, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics, bool Disabled,
    int FailedAttempts, DateTimeOffset? LockedUntil, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>Body of <c>POST /v1/users</c>.</summary>
internal sealed record CreateUserRequest(string? Username, string? DisplayName, string? Password, string[]? Roles, string[]? Clinics = null);

/// <summary>Body of <c>PATCH /v1/users/{id}</c>: only the fields present change.</summary>
internal sealed record UpdateUserRequest(string? DisplayName = null, string[]? Roles = null, string[]? Clinics = null, bool? Disabled = null);

/// <summary>Body of <c>POST /v1/users/{id}/password</c> (an admin sets a new password).</summary>
internal sealed record SetPasswordRequest(string? Password);

/// <summary>Body of <c>POST /v1/me/password</c> (a user changes their own).</summary>
internal sealed record ChangeOwnPasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>Body of <c>POST /v1/auth/token</c>.</summary>
internal sealed record SignInRequest(string? Username, string? Password);

/// <summary>Body of <c>POST /v1/auth/refresh</c> and <c>POST /v1/auth/sign-out</c>.</summary>
internal sealed record RefreshRequest(string? RefreshToken);

/// <summary>The signed-in user, as a sign-in or refresh answers it.</summary>
internal sealed record TokenUser(Guid Id, string Username, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics);

/// <summary>A sign-in's or refresh's answer: a short-lived access token and the refresh token that replaces it.</summary>
internal sealed record TokenResponse(
    string AccessToken, string TokenType, DateTimeOffset ExpiresAt, string RefreshToken, DateTimeOffset RefreshExpiresAt, TokenUser User);

/// <summary><c>GET /v1/me</c>: who the token says the caller is; username and display name for local accounts only.</summary>
internal sealed record Me(string Subject, string? Username, string? DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics);

/// <summary>What the audit log records about a sign-in, a refresh-token reuse or a sign-out: never a password or token.</summary>
internal sealed record SignInAudit(string Username, string Outcome, string Address, DateTimeOffset? LockedUntil = null, int? RevokedTokens = null);

/// <summary>What the audit log records about a password set or changed: who, and how many refresh tokens ended.</summary>
internal sealed record PasswordAudit(Guid Id, string Username, int RevokedTokens);
