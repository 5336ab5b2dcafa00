using System.Globalization;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// One look at the agent's memory: the resident set from <c>/proc/&lt;pid&gt;/status</c> split the way the kernel
/// counts it (anonymous: the managed heap, native allocations and thread stacks; file: the mapped assemblies and
/// libraries, shared with every other .NET process and dropped by the kernel under pressure; shmem: the JIT's code,
/// which the runtime maps twice, writable and executable), and the managed heap as the agent's own .NET runtime
/// metrics report it after its latest collection. A figure the process or its metrics could not give is null.
/// </summary>
internal sealed record AgentMemory(double RssMb, double? AnonMb, double? FileMb, double? ShmemMb, double? GcHeapMb, double? GcCommittedMb)
{
    /// <summary>The managed heap (every generation, LOH and POH, fragmentation included) after the latest GC.</summary>
    private const string HeapSize = "dotnet_gc_last_collection_heap_size_bytes";

    /// <summary>The memory the GC has committed (heap, free regions it keeps, bookkeeping) after the latest GC.</summary>
    private const string Committed = "dotnet_gc_last_collection_memory_committed_size_bytes";

    /// <summary>Native: resident anonymous memory the GC did not commit (malloc, TLS, the runtime's own, thread stacks).</summary>
    public double? NativeMb => AnonMb is { } anon && GcCommittedMb is { } committed ? Math.Max(0, anon - committed) : null;

    public static async Task<AgentMemory> TakeAsync(SoakAgent agent)
    {
        var status = ReadStatus(agent.Process.Id);
        double? heap = null;
        double? committed = null;
        try
        {
            var text = await agent.Admin.GetMetricsTextAsync(CancellationToken.None);
            heap = SumOf(text, HeapSize);
            committed = SumOf(text, Committed);
        }
        catch (Edge.Cli.EdgectlException)
        {
            // Restarting: the /proc figures still stand.
        }

        return new AgentMemory(
            status.GetValueOrDefault("VmRSS") ?? 0, status.GetValueOrDefault("RssAnon"), status.GetValueOrDefault("RssFile"),
            status.GetValueOrDefault("RssShmem"), heap, committed);
    }

    /// <summary>The sum of a metric's series (all its label sets) in MiB, or null when the text has none of it.</summary>
    internal static double? SumOf(string prometheusText, string metric)
    {
        double? sum = null;
        foreach (var line in prometheusText.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }

            // "name value" or "name{labels} value"; a longer name that merely starts with this one is another metric.
            var rest = line.AsSpan(metric.Length);
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{'))
            {
                continue;
            }

            var value = line[(line.LastIndexOf(' ') + 1)..];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var bytes))
            {
                sum = (sum ?? 0) + (bytes / (1024 * 1024));
            }
        }

        return sum;
    }

    private static Dictionary<string, double?> ReadStatus(int pid)
    {
        var figures = new Dictionary<string, double?>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && line.EndsWith(" kB", StringComparison.Ordinal) &&
                    long.TryParse(line.AsSpan(colon + 1, line.Length - colon - 4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                {
                    figures[line[..colon]] = kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
            // Gone (killed between two looks): no figures.
        }

        return figures;
    }
}

/// <summary>
/// Whether the agent's memory stayed flat over a soak, as docs/durability.md defines it: the resident set at the end of
/// each cycle after the first is at most <see cref="Tolerance"/> above the previous cycle's end. Each cycle kills and
/// restarts the agent once (its first fault), so each figure is a process of the same age that has been through the
/// same faults; a rise from one cycle to the next is memory the agent keeps across what should be the same state.
/// Null when the run has fewer than two cycles (under 15 minutes): nothing to compare.
/// </summary>
internal static class MemoryFlatness
{
    public const double Tolerance = 0.10;

    public static bool? IsFlat(IReadOnlyList<double> cycleEndsMb)
    {
        if (cycleEndsMb.Count < 2)
        {
            return null;
        }

        for (var i = 1; i < cycleEndsMb.Count; i++)
        {
            if (cycleEndsMb[i] <= 0 || cycleEndsMb[i - 1] <= 0 || cycleEndsMb[i] > cycleEndsMb[i - 1] * (1 + Tolerance))
            {
                return false;
            }
        }

        return true;
    }
}
