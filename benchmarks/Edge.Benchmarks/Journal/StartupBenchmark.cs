using System.Diagnostics;
using System.Globalization;
using Edge.Agent.Journal;
using Edge.Benchmarks.Processes;
using Edge.Testing;
using Edge.Cli;
using Edge.Cli.Admin;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Benchmarks.Journal;

/// <summary>How long the agent takes to open a journal holding a large backlog, and to be ready for devices.</summary>
internal static class StartupBenchmark
{
    public static async Task RunAsync(int entries)
    {
        var state = Directory.CreateTempSubdirectory("edge-bench-startup-").FullName;
        var path = Path.Combine(state, "journal.db");
        JsonLine.Progress($"startup: filling a journal with {entries} readings");
        var fill = Stopwatch.StartNew();
        await using (var journal = ReadingJournal.Open(path, "gw-bench", new JournalOptions { SyncOnCommit = false, MaxGroupCommit = 5000, QuotaBytes = long.MaxValue }, TimeProvider.System, NullLogger.Instance))
        {
            const int window = 20_000;
            for (var start = 0; start < entries; start += window)
            {
                var batch = new List<Task<AppendResult>>(window);
                for (var i = start; i < Math.Min(entries, start + window); i++)
                {
                    batch.Add(journal.AppendAsync(JournalBench.Reading(i, i)).AsTask());
                }

                await Task.WhenAll(batch);
            }
        }

        var fillSeconds = fill.Elapsed.TotalSeconds;
        var sizeMb = new FileInfo(path).Length / 1048576.0;

        var open = Stopwatch.StartNew();
        await using (var reopened = ReadingJournal.Open(path, "gw-bench", new JournalOptions { QuotaBytes = long.MaxValue }, TimeProvider.System, NullLogger.Instance))
        {
            open.Stop();
            if (reopened.Snapshot.EntriesPerLane.Sum() != entries)
            {
                throw new InvalidOperationException($"expected {entries} entries, the journal reports {reopened.Snapshot.EntriesPerLane.Sum()}");
            }
        }

        // The whole agent, as a fresh process: spawn to "admin socket answers", which comes after the broker listens.
        var ready = Stopwatch.StartNew();
        var environment = BenchAgent.AgentEnvironment(state, FreePort.Next());
        environment["Agent__Journal__QuotaBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture);
        await using (var agent = BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")], environment, Path.Combine(state, "agent.log")))
        {
            using var admin = new AgentAdminClient(Path.Combine(state, "admin.sock"));
            while (true)
            {
                try
                {
                    await admin.GetStatusAsync(CancellationToken.None);
                    break;
                }
                catch (EdgectlException) when (ready.Elapsed < TimeSpan.FromSeconds(120) && !agent.HasExited)
                {
                    await Task.Delay(10);
                }
            }

            ready.Stop();
        }

        JsonLine.Write(new Dictionary<string, object?>
        {
            ["bench"] = "startup",
            ["entries"] = entries,
            ["journal_mb"] = sizeMb,
            ["open_ms"] = open.Elapsed.TotalMilliseconds,
            ["agent_ready_ms"] = ready.Elapsed.TotalMilliseconds,
            ["fill_readings_per_s"] = entries / fillSeconds,
        });
        Directory.Delete(state, recursive: true);
    }
}
