using System.Diagnostics;
using System.Globalization;

namespace Edge.Benchmarks.Processes;

/// <summary>CPU seconds (user + system) used so far, read from /proc: by one process, or by every process with a command name.</summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

    /// <summary>All processes named <paramref name="command"/> (e.g. every PostgreSQL backend).</summary>
    public static double SecondsOfCommand(string command)
    {
        var total = 0.0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (Read(Path.Combine(directory, "stat")) is { } stat && stat.Command == command)
            {
                total += stat.Seconds;
            }
        }

        return total;
    }

    /// <summary>One process, 0 when it is gone.</summary>
    public static double SecondsOfProcess(int pid) => Read($"/proc/{pid}/stat")?.Seconds ?? 0;

    /// <summary>This process.</summary>
    public static double SecondsOfThisProcess() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static (string Command, double Seconds)? Read(string path)
    {
        try
        {
            // "pid (comm) state ppid …": utime and stime are the 12th and 13th fields after the closing parenthesis.
            var stat = File.ReadAllText(path);
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open)
            {
                return null;
            }

            var fields = stat[(close + 2)..].Split(' ');
            var ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            return (stat[(open + 1)..close], ticks / TicksPerSecond);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null; // the process ended while being read
        }
    }
}
