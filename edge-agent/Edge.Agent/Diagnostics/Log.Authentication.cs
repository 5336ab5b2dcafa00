using Microsoft.Extensions.Logging;

namespace Edge.Agent;

// Device authentication's log lines: 2030-2039 (broker), 4020-4029 (credentials). Kept apart from Log.cs so the
// feature's lines read together.
internal static partial class Log
{
    [LoggerMessage(2030, LogLevel.Warning, "CONNECTs from {Address} are refused for {Seconds} s without checking their secrets: {Failures} failed within {WindowSeconds} s (Agent:Broker:FailedConnects)")]
    public static partial void ConnectsRateLimited(ILogger logger, string address, int seconds, int failures, int windowSeconds);

    [LoggerMessage(4020, LogLevel.Warning, "{Count} device credential(s) in {Path} are PBKDF2 hashes written by an earlier agent; each is stored again as HMAC-SHA256 at its device's next successful CONNECT")]
    public static partial void LegacyCredentialsLoaded(ILogger logger, int count, string path);

    [LoggerMessage(4021, LogLevel.Information, "Device credential for {Serial} stored again as HMAC-SHA256 (was PBKDF2)")]
    public static partial void CredentialMigrated(ILogger logger, string serial);

    [LoggerMessage(4022, LogLevel.Warning, "Could not store the migrated credential of {Serial} ({Error}); the old entry still works and is migrated at the device's next CONNECT")]
    public static partial void CredentialMigrationFailed(ILogger logger, string serial, string error);

    [LoggerMessage(4023, LogLevel.Information, "Created the device credential key {Path} (mode 0600); back it up together with devices.json")]
    public static partial void CredentialKeyCreated(ILogger logger, string path);
}
