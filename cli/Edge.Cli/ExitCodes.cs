namespace Edge.Cli;

/// <summary>The process exit codes of edgectl; scripts (./run.sh, installers, CI) rely on them.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The command failed for a reason not covered below (an unexpected error, an unreadable answer).</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or usage: a missing, unknown or out-of-range option, conflicting options, an unreadable input file.</summary>
    public const int Usage = 2;

    /// <summary>The agent (admin socket), the cloud API or a broker could not be reached at all.</summary>
    public const int Unreachable = 3;

    /// <summary>The agent or the API refused the request (unknown serial, conflict), or a run finished only in part (readings refused, devices rejected).</summary>
    public const int Refused = 4;

    /// <summary>Not logged in, or the API refused the token (HTTP 401): log in again.</summary>
    public const int Unauthenticated = 5;

    /// <summary>The API refused the request for the token's role or clinics (HTTP 403).</summary>
    public const int Forbidden = 6;

    /// <summary>Interrupted by Ctrl+C before the command could finish (the shell convention, 128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
