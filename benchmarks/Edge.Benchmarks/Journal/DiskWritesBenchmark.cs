using System.Globalization;
using Edge.Benchmarks.Processes;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;

namespace Edge.Benchmarks.Journal;

/// <summary>
/// What the journal writes to the disk at a clinic's load: paced devices (one reading per device per 1/rate s, not
/// a closed loop), the agent's bytes written to storage from /proc/&lt;pid&gt;/io, and the latency the devices see,
/// for each Agent:Journal:MinCommitIntervalMs. Flash wears by bytes written, so this is the gateway disk's budget.
/// </summary>
internal static class DiskWritesBenchmark
{
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(int devices, double ratePerDevice, TimeSpan measure, int[] intervalsMs)
    {
        var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], devices, 9500);
        foreach (var interval in intervalsMs)
        {
            JsonLine.Progress($"disk writes: {devices} devices at {ratePerDevice}/s, MinCommitIntervalMs {interval}");
            await using var agent = await BenchAgent.StartAsync(serials, new Dictionary<string, string>
            {
                ["Agent__Journal__MinCommitIntervalMs"] = interval.ToString(CultureInfo.InvariantCulture),
            });

            // The warm-up connects the devices and lets provisioning's own writes (devices.json) reach the disk.
            await Generator(agent, ratePerDevice, Warmup, seed: 1).RunAsync();
            var commitsBefore = (await agent.Admin.GetStatusAsync(CancellationToken.None)).Journal.Commits;
            var disk = BlockDeviceWrites.For(agent.StateDirectory);
            var bytesBefore = WrittenBytes(agent.Process.Id);
            var diskBefore = disk?.WrittenBytes();
            var result = await Generator(agent, ratePerDevice, measure, seed: 2).RunAsync();
            var commitsAfter = (await agent.Admin.GetStatusAsync(CancellationToken.None)).Journal.Commits;
            var written = WrittenBytes(agent.Process.Id) - bytesBefore;
            var diskWritten = disk?.WrittenBytes() - diskBefore;
            var commits = (commitsAfter?.Count ?? 0) - (commitsBefore?.Count ?? 0);
            var seconds = result.Elapsed.TotalSeconds;

            JsonLine.Write(new Dictionary<string, object?>
            {
                ["bench"] = "disk_writes",
                ["devices"] = devices,
                ["rate_per_device"] = ratePerDevice,
                ["min_commit_interval_ms"] = interval,
                // Agent:Journal:WriteAheadLog as the agent ran (the default, or Agent__Journal__WriteAheadLog in this
                // process's environment, which the agent inherits).
                ["write_ahead_log"] = commitsAfter?.WriteAheadLog,
                ["seconds"] = seconds,
                ["readings"] = result.Acknowledged,
                ["readings_per_s"] = result.ReadingsPerSecond,
                ["commits"] = commits,
                // Commits include the few that hold no reading (dead letters, credential changes); none here.
                ["readings_per_commit"] = commits > 0 ? (double)result.Acknowledged / commits : null,
                ["written_mb"] = written / 1e6,
                ["kb_per_reading"] = result.Acknowledged > 0 ? written / 1e3 / result.Acknowledged : null,
                ["gb_per_day"] = seconds > 0 ? written / seconds * 86_400 / 1e9 : null,
                // The whole block device over the same window: the agent's writes plus the file system's own (jbd2
                // commits, metadata) and anything else on the machine that wrote to that disk meanwhile.
                ["device"] = disk?.Device,
                ["device_written_mb"] = diskWritten / 1e6,
                ["device_kb_per_reading"] = diskWritten is { } d && result.Acknowledged > 0 ? d / 1e3 / result.Acknowledged : null,
                ["device_gb_per_day"] = diskWritten is { } w && seconds > 0 ? w / seconds * 86_400 / 1e9 : null,
                ["p50_ms"] = result.LatencyP50Milliseconds,
                ["p99_ms"] = result.LatencyP99Milliseconds,
                ["max_ms"] = result.LatencyMaxMilliseconds,
                ["errors"] = result.Errors + result.Refused + result.Unacknowledged,
                // The machine's 1-minute load average at the end: other work on a shared machine moves the latencies.
                ["load_1m"] = LoadAverage(),
            });
        }
    }

    private static double? LoadAverage() =>
        File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture, out var load) ? load : null;

    private static LoadGenerator Generator(BenchAgent agent, double ratePerDevice, TimeSpan duration, int seed) => new(new LoadGeneratorOptions
    {
        Port = agent.Port,
        Devices = agent.Devices,
        RatePerDevice = ratePerDevice,
        Duration = duration,
        Seed = seed,
    });

    /// <summary>
    /// Bytes the process caused to be sent to storage (<c>write_bytes</c>: page-cache writeback and direct writes,
    /// counted when submitted). The file system's own journal (jbd2) comes on top: see <see cref="BlockDeviceWrites"/>.
    /// </summary>
    private static long WrittenBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/io"))
        {
            if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
            {
                return long.Parse(line["write_bytes:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/io has no write_bytes line");
    }
}
