using Edge.Testing;

namespace Edge.Benchmarks;

/// <summary>
/// A server a benchmark starts (the agent, a worker, mosquitto, the API), on the tests' launcher: its output to a log
/// file, and at the end SIGTERM with 15 s to shut down before SIGKILL.
/// </summary>
internal static class BenchProcess
{
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? logPath = null) =>
        ChildProcess.Start(fileName, arguments, environment, logPath, disposeGrace: TimeSpan.FromSeconds(15));

    /// <summary>Resident set size in MiB (VmRSS), or 0 when the process is gone.</summary>
    public static double ResidentMegabytes(this ChildProcess process) => process.ResidentBytes() / (1024.0 * 1024.0);
}
