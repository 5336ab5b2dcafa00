using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Api.Accounts;

/// <summary>
/// Local accounts' tokens and lockout (configuration section <c>Api:Auth:Accounts</c>). Used in local-key mode only:
/// with <c>Api:Auth:Authority</c> set, accounts live in the identity provider and the sign-in endpoints answer 404.
/// </summary>
internal sealed class AccountOptions
{
    public const string SectionName = "Api:Auth:Accounts";

    /// <summary>
    /// Lifetime of an access token, in minutes. Default 15: a disabled user or a changed role takes effect within this
    /// long (access tokens are not checked against the database on every request), and the console refreshes quietly.
    /// </summary>
    [SettingRange(1, 1440, ErrorMessage = "Api:Auth:Accounts:AccessTokenMinutes must be between 1 and 1440.")]
    public int AccessTokenMinutes { get; set; } = 15;

    /// <summary>
    /// How long one sign-in lasts, in hours: refresh tokens rotate, but every token of a sign-in expires this long after
    /// it. Default 12, a clinic shift; then the user signs in again.
    /// </summary>
    [SettingRange(1, 720, ErrorMessage = "Api:Auth:Accounts:RefreshTokenHours must be between 1 and 720.")]
    public int RefreshTokenHours { get; set; } = 12;

    /// <summary>Consecutive wrong passwords that lock an account. Default 5.</summary>
    [SettingRange(1, 100, ErrorMessage = "Api:Auth:Accounts:MaxFailedAttempts must be between 1 and 100.")]
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>
    /// How long a locked account refuses every sign-in, the right password included, in minutes. Default 15: a guesser
    /// gets 5 tries per 15 minutes (480 a day) instead of the address rate limit's thousands; an admin can unlock earlier.
    /// </summary>
    [SettingRange(1, 10080, ErrorMessage = "Api:Auth:Accounts:LockoutMinutes must be between 1 and 10080.")]
    public int LockoutMinutes { get; set; } = 15;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromHours(RefreshTokenHours);

    public TimeSpan LockoutDuration => TimeSpan.FromMinutes(LockoutMinutes);
}
