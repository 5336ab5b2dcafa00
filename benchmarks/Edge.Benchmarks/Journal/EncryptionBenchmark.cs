using System.Diagnostics;
using Edge.Benchmarks.Processes;
using Edge.Agent.Journal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Benchmarks.Journal;

/// <summary>
/// The cost of encryption at rest: the same durable appends (fdatasync on) from W concurrent writers, each waiting
/// for its commit like a device waiting for its PUBACK, into a plain and into an encrypted journal.
/// </summary>
internal static class EncryptionBenchmark
{
    public static async Task RunAsync(int readings, int writers)
    {
        var state = Directory.CreateTempSubdirectory("edge-bench-encryption-").FullName;
        var key = Path.Combine(state, "journal.key");
        await File.WriteAllTextAsync(key, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // Warm-up: JIT and tiered compilation, so the first measured journal does not pay for them.
        await MeasureAsync(Path.Combine(state, "warmup.db"), null, Math.Min(readings, 5000), writers);
        var plain = await MeasureAsync(Path.Combine(state, "plain.db"), null, readings, writers);
        var encrypted = await MeasureAsync(Path.Combine(state, "encrypted.db"), key, readings, writers);
        JsonLine.Write(new Dictionary<string, object?>
        {
            ["bench"] = "encryption",
            ["readings"] = readings,
            ["writers"] = writers,
            ["plain_readings_per_s"] = plain.PerSecond,
            ["encrypted_readings_per_s"] = encrypted.PerSecond,
            ["ratio"] = encrypted.PerSecond / plain.PerSecond,
            ["plain_p99_ms"] = plain.P99,
            ["encrypted_p99_ms"] = encrypted.P99,
            // CPU of the whole process (journal writer, fdatasync, the writers' continuations) per reading.
            ["plain_cpu_us_per_reading"] = plain.CpuMicroseconds,
            ["encrypted_cpu_us_per_reading"] = encrypted.CpuMicroseconds,
            ["plain_mb"] = new FileInfo(Path.Combine(state, "plain.db")).Length / 1048576.0,
            ["encrypted_mb"] = new FileInfo(Path.Combine(state, "encrypted.db")).Length / 1048576.0,
        });
        Directory.Delete(state, recursive: true);
    }

    private static async Task<(double PerSecond, double P99, double CpuMicroseconds)> MeasureAsync(string path, string? keyFile, int readings, int writers)
    {
        JsonLine.Progress($"encryption: {(keyFile is null ? "plain" : "encrypted")} journal, {readings} readings from {writers} writers");
        var options = new JournalOptions { EncryptionKeyFile = keyFile, QuotaBytes = long.MaxValue };
        var latencies = new double[readings];
        var cpu = ProcessCpu.SecondsOfThisProcess();
        var elapsed = Stopwatch.StartNew();
        await using (var journal = ReadingJournal.Open(path, "gw-bench", options, TimeProvider.System, NullLogger.Instance))
        {
            var perWriter = readings / writers;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < perWriter; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await journal.AppendAsync(JournalBench.Reading(w, i));
                    latencies[(w * perWriter) + i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            })));
            elapsed.Stop();
        }

        cpu = ProcessCpu.SecondsOfThisProcess() - cpu;
        var measured = latencies.Take(readings / writers * writers).Order().ToArray();
        return (measured.Length / elapsed.Elapsed.TotalSeconds, measured[(int)(measured.Length * 0.99)], cpu * 1e6 / measured.Length);
    }
}
