namespace Edge.Cli;

/// <summary>A failure the technician can act on: its message is printed as one line and its exit code is returned.</summary>
internal class EdgectlException : Exception
{
    public EdgectlException(string message, int exitCode = ExitCodes.Failed, Exception? innerException = null)
        : base(message, innerException) => ExitCode = exitCode;

    public int ExitCode { get; }
}
