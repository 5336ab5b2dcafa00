namespace Edge.Api;

/// <summary>Local accounts' log lines (8700-8749). Never a password, a hash or a token.</summary>
internal static partial class Log
{
    [LoggerMessage(8700, LogLevel.Information, "Sign-in of {Username}: refused ({Reason}) from {Address}")]
    public static partial void SignInRefused(ILogger logger, string username, string reason, string address);

    [LoggerMessage(8701, LogLevel.Warning, "Account {Username} locked until {LockedUntil:O} after {Attempts} wrong passwords in a row (last from {Address})")]
    public static partial void AccountLocked(ILogger logger, string username, DateTimeOffset lockedUntil, int attempts, string address);

    [LoggerMessage(8702, LogLevel.Warning, "Refresh token of {Username} used a second time from {Address}: its sign-in is revoked ({Revoked} live tokens); the token may have been stolen")]
    public static partial void RefreshTokenReused(ILogger logger, string username, int revoked, string address);

    [LoggerMessage(8703, LogLevel.Information, "User {Username} ({UserId}) {Change} by {Actor}; {Revoked} refresh tokens revoked")]
    public static partial void UserChanged(ILogger logger, string username, Guid userId, string change, string actor, int revoked);
}
