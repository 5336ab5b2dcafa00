using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// The whole system as a user runs it, for a long time, under churn: the agent (child process), the cloud broker, two
/// worker processes, PostgreSQL, the API, and simulated devices over the agent's TLS listener, with the faults of
/// <see cref="FaultSchedule"/> injected on a schedule. At the end the devices stop, the backlog drains, and what each
/// device saw acknowledged is compared with what the stores hold. One JSON line; exit 1 when a reading was lost or
/// stored twice.
/// </summary>
internal static class SoakBenchmark
{
    private const string GatewayId = "gw-soak";
    private const int SerialBase = 9700;
    private const int DownlinkDevices = 5;
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan DownlinkDeadline = TimeSpan.FromMinutes(3);

    public static async Task<int> RunAsync(TimeSpan duration, int devices, double rate)
    {
        // The API runs in this process and logs through the console: stdout stays for the JSON line alone.
        Console.SetOut(Console.Error);
        var state = Directory.CreateTempSubdirectory("edge-bench-soak-").FullName;
        var keepState = true;
        SoakCloud? cloud = null;
        SoakAgent? agent = null;
        SoakFleet? fleet = null;
        try
        {
            Progress($"{devices} devices at {rate}/s for {duration.TotalMinutes:0.#} min; logs in {state}");
            Progress("starting PostgreSQL, mosquitto, the API and two worker processes");
            cloud = await SoakCloud.StartAsync(state);
            var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], devices, SerialBase);
            await cloud.RegisterAsync(GatewayId, serials);

            Progress("starting the agent and provisioning the devices' credentials (as edgectl simulate does)");
            agent = await SoakAgent.StartAsync(Path.Combine(state, "agent"), GatewayId, cloud.Broker);
            var credentials = await SimulatedCredentials.ProvisionAsync(agent.Admin, serials, CancellationToken.None);
            var deviceCa = new X509Certificate2Collection();
            deviceCa.ImportFromPem(await agent.Admin.GetDeviceCaAsync(CancellationToken.None));
            fleet = new SoakFleet(credentials, agent.TlsPort, deviceCa);

            var schedule = FaultSchedule.For(duration);
            Progress($"{schedule.Faults.Count} fault slots, uplink cut {schedule.UplinkCut.TotalSeconds:0} s, PostgreSQL down {schedule.PostgresDown.TotalSeconds:0} s each");
            var run = new SoakRun(cloud, agent, fleet, serials, schedule, Stopwatch.StartNew());
            fleet.Start(rate);
            using var sampling = new CancellationTokenSource();
            var sampler = run.SampleAsync(duration, sampling.Token);
            await run.InjectFaultsAsync();
            await DelayUntilAsync(run.Clock, duration);
            await sampling.CancelAsync();
            await sampler;
            run.RecordLastCycleEnd();

            // The devices stay connected until the pushed configs and firmware offers have been answered: a device that
            // is gone cannot apply them, and that would say nothing about the system.
            var downlink = await run.WaitForDownlinkAsync(DownlinkDeadline);
            Progress($"stopping the devices ({fleet.Acknowledged} readings acknowledged)");
            await fleet.StopAsync();
            var drained = await WaitForDrainAsync(agent);
            var rssEnd = agent.Process.ResidentMegabytes();
            var memoryEnd = await AgentMemory.TakeAsync(agent);
            var status = await agent.StatusAsync();
            var tally = await SoakTally.CountAsync(cloud.Database, fleet.Devices.ToDictionary(d => d.Device.Serial, d => d.Acknowledged, StringComparer.Ordinal));

            JsonLine.Write(new Dictionary<string, object?>
            {
                ["bench"] = "soak",
                ["minutes"] = duration.TotalMinutes,
                ["devices"] = devices,
                ["acknowledged"] = tally.Acknowledged,
                ["stored"] = tally.Stored,
                ["lost"] = tally.Lost,
                ["duplicated"] = tally.Duplicated,
                ["out_of_order"] = tally.OutOfOrder,
                ["dead_lettered"] = status.DeadLetters + tally.CloudDeadLettered,
                ["faults"] = run.Faults,
                ["agent_rss_mb_start"] = run.RssStart,
                ["agent_rss_mb_middle"] = run.RssMiddle,
                ["agent_rss_mb_end"] = rssEnd,
                ["config_applied"] = downlink.ConfigApplied,
                ["firmware_done"] = downlink.FirmwareDone,
                ["rate"] = rate,
                ["drained"] = drained,
                // Stored, but the device never saw its PUBACK (in flight when the devices stopped or the agent died): not lost, not duplicated.
                ["stored_unacknowledged"] = tally.StoredUnacknowledged,
                ["fault_errors"] = run.FaultErrors,
                ["agent_starts"] = agent.Starts,
                ["device_reconnects"] = fleet.Reconnects,
                ["device_retries"] = fleet.Failures,
                ["refused"] = fleet.Refused,
                ["agent_rss_mb_max"] = run.RssMax,
                // What the RSS is made of (see AgentMemory and docs/durability.md), at the same three moments.
                ["agent_gc_heap_mb_start"] = run.MemoryStart?.GcHeapMb,
                ["agent_gc_heap_mb_middle"] = run.MemoryMiddle?.GcHeapMb,
                ["agent_gc_heap_mb_end"] = memoryEnd.GcHeapMb,
                ["agent_gc_committed_mb_start"] = run.MemoryStart?.GcCommittedMb,
                ["agent_gc_committed_mb_middle"] = run.MemoryMiddle?.GcCommittedMb,
                ["agent_gc_committed_mb_end"] = memoryEnd.GcCommittedMb,
                ["agent_native_mb_start"] = run.MemoryStart?.NativeMb,
                ["agent_native_mb_middle"] = run.MemoryMiddle?.NativeMb,
                ["agent_native_mb_end"] = memoryEnd.NativeMb,
                ["agent_file_mb_end"] = memoryEnd.FileMb,
                ["agent_shmem_mb_end"] = memoryEnd.ShmemMb,
                ["agent_rss_mb_cycle_ends"] = run.RssCycleEnds,
                ["agent_memory_flat"] = MemoryFlatness.IsFlat(run.RssCycleEnds),
            });

            foreach (var problem in tally.Problems.Take(20))
            {
                Progress($"PROBLEM {problem}");
            }

            var clean = tally.Lost == 0 && tally.Duplicated == 0;
            keepState = !clean || !drained || !downlink.ConfigApplied || !downlink.FirmwareDone || run.FaultErrors > 0;
            if (keepState)
            {
                Progress($"logs and the agent's state kept in {state} (agent-N.log, worker-X-N.log)");
            }

            return clean && tally.Acknowledged > 0 ? 0 : 1;
        }
        finally
        {
            if (fleet is not null)
            {
                await fleet.DisposeAsync();
            }

            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (cloud is not null)
            {
                await cloud.DisposeAsync();
            }

            if (!keepState)
            {
                Directory.Delete(state, recursive: true);
            }
        }
    }

    public static void Progress(string message) =>
        JsonLine.Progress($"soak {DateTimeOffset.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}Z: {message}");

    public static async Task DelayUntilAsync(Stopwatch clock, TimeSpan at, CancellationToken cancellationToken = default)
    {
        var wait = at - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>Until the agent's backlog is empty and nothing is in flight; false when the deadline passed first.</summary>
    private static async Task<bool> WaitForDrainAsync(SoakAgent agent)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        while (clock.Elapsed < DrainDeadline)
        {
            if (await agent.TryStatusAsync() is { } status)
            {
                if (status.Uplink.BacklogReadings == 0 && status.Uplink.InFlightBatches == 0)
                {
                    Progress($"backlog drained in {clock.Elapsed.TotalSeconds:0} s");
                    return true;
                }

                if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(15))
                {
                    lastProgress = clock.Elapsed;
                    Progress($"draining: backlog {status.Uplink.BacklogReadings}, in flight {status.Uplink.InFlightBatches}, uplink {(status.Uplink.Connected ? "up" : "down")}");
                }
            }

            await Task.Delay(500);
        }

        Progress($"ERROR the backlog did not drain within {DrainDeadline.TotalMinutes:0} min");
        return false;
    }
}
