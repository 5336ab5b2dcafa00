using System.Diagnostics;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// One soak run in progress: injects the scheduled faults (each logged to stderr with its time), samples the agent's
/// resident memory, and remembers the config pushes and firmware jobs it made so the end can check they completed.
/// </summary>
internal sealed class SoakRun(SoakCloud cloud, SoakAgent agent, SoakFleet fleet, IReadOnlyList<string> serials, FaultSchedule schedule, Stopwatch clock)
{
    private readonly List<(string Serial, int Version)> _configs = [];
    private readonly List<(string JobId, int Devices)> _firmwareJobs = [];
    private readonly List<double> _cycleEnds = [];
    private readonly string[] _cpap = [.. serials.Where(s => s.StartsWith("CPAP-", StringComparison.Ordinal)).Take(5)];
    private readonly string[] _ecg = [.. serials.Where(s => s.StartsWith("ECG-", StringComparison.Ordinal)).Take(5)];
    private int _round;
    private int _workerKills;

    public Stopwatch Clock => clock;

    /// <summary>Faults injected (a config push and a firmware offer count as one each, like a kill or a restart).</summary>
    public int Faults { get; private set; }

    /// <summary>Faults that could not be injected (an API call refused, a process that would not start).</summary>
    public int FaultErrors { get; private set; }

    public double RssStart { get; private set; }

    public double RssMiddle { get; private set; }

    public double RssMax { get; private set; }

    /// <summary>The agent's memory, split (see <see cref="AgentMemory"/>), when the start and middle RSS were taken.</summary>
    public AgentMemory? MemoryStart { get; private set; }

    public AgentMemory? MemoryMiddle { get; private set; }

    /// <summary>The agent's RSS at the end of each fault cycle, the last one at the end of the run (before the drain).</summary>
    public IReadOnlyList<double> RssCycleEnds => _cycleEnds;

    /// <summary>
    /// Samples the agent's RSS every second (the restarted process after a kill): the start figure once the devices have
    /// settled (10 s, or 5 % of a short run), the middle one at half time. Logs progress every 30 s.
    /// </summary>
    public async Task SampleAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var startAt = TimeSpan.FromSeconds(Math.Min(10, duration.TotalSeconds / 20));
        var middleAt = duration / 2;
        var lastProgress = TimeSpan.Zero;
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                var rss = agent.Process.ResidentMegabytes();
                RssMax = Math.Max(RssMax, rss);
                if (RssStart == 0 && clock.Elapsed >= startAt && rss > 0)
                {
                    RssStart = rss;
                    MemoryStart = await AgentMemory.TakeAsync(agent);
                }

                if (RssMiddle == 0 && clock.Elapsed >= middleAt && rss > 0)
                {
                    RssMiddle = rss;
                    MemoryMiddle = await AgentMemory.TakeAsync(agent);
                }

                // Every cycle's end but the last, which the run's end records (RecordLastCycleEnd).
                if (_cycleEnds.Count < schedule.Cycles - 1 && clock.Elapsed >= schedule.CycleLength * (_cycleEnds.Count + 1) && rss > 0)
                {
                    _cycleEnds.Add(rss);
                    SoakBenchmark.Progress($"+{Elapsed()} end of cycle {_cycleEnds.Count}: agent RSS {rss:0} MB");
                }

                if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(30))
                {
                    lastProgress = clock.Elapsed;
                    var status = await agent.TryStatusAsync();
                    SoakBenchmark.Progress($"+{Elapsed()} acknowledged {fleet.Acknowledged}, devices connected {status?.DevicesConnected.ToString() ?? "?"}, " +
                        $"backlog {status?.Uplink.BacklogReadings.ToString() ?? "?"}, uplink {(status is null ? "?" : status.Uplink.Connected ? "up" : "down")}, agent RSS {rss:0} MB");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The last cycle ends with the run, before the devices stop and the backlog drains.</summary>
    public void RecordLastCycleEnd()
    {
        if (_cycleEnds.Count < schedule.Cycles && agent.Process.ResidentMegabytes() is var rss and > 0)
        {
            _cycleEnds.Add(rss);
            SoakBenchmark.Progress($"+{Elapsed()} end of cycle {_cycleEnds.Count}: agent RSS {rss:0} MB");
        }
    }

    public async Task InjectFaultsAsync()
    {
        foreach (var (at, fault) in schedule.Faults)
        {
            await SoakBenchmark.DelayUntilAsync(clock, at);
            try
            {
                await InjectAsync(fault);
            }
            catch (Exception ex)
            {
                FaultErrors++;
                SoakBenchmark.Progress($"+{Elapsed()} ERROR fault {fault} could not be injected: {ex.GetBaseException().Message}");
            }
        }
    }

    /// <summary>Waits for every pushed config to be applied and every firmware job to be done, as the API reports them.</summary>
    public async Task<(bool ConfigApplied, bool FirmwareDone)> WaitForDownlinkAsync(TimeSpan deadline)
    {
        var waited = Stopwatch.StartNew();
        var configApplied = false;
        var firmwareDone = false;
        while (true)
        {
            configApplied = await AllConfigsAppliedAsync();
            firmwareDone = await AllFirmwareDoneAsync();
            if ((configApplied && firmwareDone) || waited.Elapsed > deadline)
            {
                break;
            }

            await Task.Delay(1000);
        }

        if (!firmwareDone)
        {
            foreach (var (job, _) in _firmwareJobs)
            {
                SoakBenchmark.Progress($"firmware job {job}: {await cloud.FirmwareStatesAsync(job)}");
            }
        }

        if (!configApplied)
        {
            foreach (var serial in _configs.Select(c => c.Serial).Distinct())
            {
                SoakBenchmark.Progress($"config of {serial}: {await cloud.ConfigStateAsync(serial)}");
            }
        }

        SoakBenchmark.Progress($"config pushes {_configs.Count}: {(configApplied ? "all applied" : "NOT all applied")}; firmware jobs {_firmwareJobs.Count}: {(firmwareDone ? "all done" : "NOT all done")}");
        return (configApplied, firmwareDone);
    }

    private async Task InjectAsync(SoakFault fault)
    {
        var started = Stopwatch.StartNew();
        switch (fault)
        {
            case SoakFault.FirmwareOfferThenAgentKill:
                var job = await cloud.OfferFirmwareAsync(_ecg, ++_round);
                _firmwareJobs.Add((job, _ecg.Length));
                Log($"firmware offer {job} to {_ecg.Length} ECG devices");
                // On its way from the API through a worker, the broker and the agent to the devices when the agent dies.
                await Task.Delay(200);
                var pid = agent.Process.Id;
                Log($"agent kill -9 (pid {pid})");
                await agent.KillAndRestartAsync();
                Log($"agent restarted (pid {agent.Process.Id}) after {started.Elapsed.TotalSeconds:0.0} s");
                break;
            case SoakFault.WorkerKill:
                var index = _workerKills++ % cloud.WorkerCount;
                Log($"worker {(index == 0 ? "a" : "b")} kill -9");
                await cloud.KillAndRestartWorkerAsync(index);
                Log($"worker {(index == 0 ? "a" : "b")} started again");
                break;
            case SoakFault.BrokerRestart:
                Log("cloud broker restart");
                await cloud.RestartBrokerAsync(TimeSpan.Zero);
                Log($"cloud broker back after {started.Elapsed.TotalSeconds:0.0} s");
                break;
            case SoakFault.PostgresRestart:
                Log($"PostgreSQL stop -m immediate, down for {schedule.PostgresDown.TotalSeconds:0} s");
                await cloud.RestartPostgresAsync(schedule.PostgresDown);
                Log($"PostgreSQL back after {started.Elapsed.TotalSeconds:0.0} s");
                break;
            case SoakFault.ConfigPushThenUplinkCut:
                Log($"uplink cut: cloud broker down for {schedule.UplinkCut.TotalSeconds:0} s");
                await cloud.Broker.StopAsync();
                // Pushed while the uplink is down: it waits in the cloud's outbox and crosses the link when it is back.
                var pressure = 8 + (_configs.Count % 8);
                foreach (var serial in _cpap)
                {
                    _configs.Add((serial, await cloud.PushConfigAsync(serial, pressure)));
                }

                Faults++;
                Log($"config push (target_pressure {pressure}) to {_cpap.Length} CPAP devices while the uplink is cut");
                var rest = schedule.UplinkCut - started.Elapsed;
                await Task.Delay(rest > TimeSpan.Zero ? rest : TimeSpan.Zero);
                await cloud.Broker.StartAsync();
                Log($"uplink back after {started.Elapsed.TotalSeconds:0.0} s");
                break;
            case SoakFault.ReconnectStorm:
                Log($"reconnect storm: all {fleet.Devices.Count} devices drop and reconnect at once");
                await fleet.StormAsync();
                Log($"devices reconnected after {started.Elapsed.TotalSeconds:0.0} s");
                break;
            default:
                throw new InvalidOperationException($"unknown fault {fault}");
        }

        Faults += fault == SoakFault.FirmwareOfferThenAgentKill ? 2 : 1;
    }

    private async Task<bool> AllConfigsAppliedAsync()
    {
        // Each device's newest push must be applied (an older one is superseded by it, which is correct).
        foreach (var (serial, version) in _configs.GroupBy(c => c.Serial).Select(g => (g.Key, g.Max(c => c.Version))))
        {
            if (await cloud.ConfigStateAsync(serial) is not ("applied", var current) || current != version)
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> AllFirmwareDoneAsync()
    {
        foreach (var (job, devices) in _firmwareJobs)
        {
            if (await cloud.FirmwareDoneAsync(job) != devices)
            {
                return false;
            }
        }

        return true;
    }

    private void Log(string what) => SoakBenchmark.Progress($"+{Elapsed()} fault: {what}");

    private string Elapsed() => clock.Elapsed.ToString(@"mm\:ss", System.Globalization.CultureInfo.InvariantCulture);
}
