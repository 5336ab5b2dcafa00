namespace Edge.Console;

/// <summary>Every log line the console writes, with stable event ids a technician can search for (88xx).</summary>
internal static partial class Log
{
    [LoggerMessage(8800, LogLevel.Information, "Console: talking to the API at {ApiUrl}; sessions and keys in {StateDirectory}")]
    public static partial void Started(ILogger logger, Uri apiUrl, string stateDirectory);

    [LoggerMessage(8801, LogLevel.Information, "Sign-in of {Username} succeeded (subject {Subject})")]
    public static partial void SignedIn(ILogger logger, string username, string subject);

    [LoggerMessage(8802, LogLevel.Information, "Sign-in of {Username} refused by the API ({Status})")]
    public static partial void SignInRefused(ILogger logger, string username, int status);

    [LoggerMessage(8803, LogLevel.Information, "Session of {Subject} signed out")]
    public static partial void SignedOut(ILogger logger, string subject);

    [LoggerMessage(8804, LogLevel.Information, "Session of {Subject} ended: the API refused to refresh its token")]
    public static partial void RefreshRefused(ILogger logger, string subject);

    [LoggerMessage(8805, LogLevel.Warning, "The API could not be reached at {ApiUrl}")]
    public static partial void ApiUnreachable(ILogger logger, Uri apiUrl, Exception error);

    [LoggerMessage(8806, LogLevel.Warning, "Live stream of {Serial} ended: {Reason}")]
    public static partial void LiveEnded(ILogger logger, string serial, string reason);

    [LoggerMessage(8810, LogLevel.Warning, "Live alerts stream ended: {Reason}")]
    public static partial void LiveAlertsEnded(ILogger logger, string reason);

    [LoggerMessage(8807, LogLevel.Warning, "A stored session could not be read and was removed")]
    public static partial void SessionUnreadable(ILogger logger, Exception error);

    [LoggerMessage(8809, LogLevel.Error, "Request {Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception? error);

    [LoggerMessage(8808, LogLevel.Information, "Single sign-on of {Subject} through {Authority}")]
    public static partial void SignedInOidc(ILogger logger, string subject, string authority);
}
