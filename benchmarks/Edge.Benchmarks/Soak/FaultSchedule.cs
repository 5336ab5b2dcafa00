namespace Edge.Benchmarks.Soak;

/// <summary>The faults a soak injects; a config push and a firmware offer count as faults because each is made to be in flight through one.</summary>
internal enum SoakFault
{
    /// <summary>A firmware offer, then the agent's kill -9 while it travels (cloud → gateway → device), and a restart.</summary>
    FirmwareOfferThenAgentKill,

    /// <summary>The uplink cut (the cloud broker down for a while) and a config push made while it is down.</summary>
    ConfigPushThenUplinkCut,

    /// <summary>One of the two worker processes killed with SIGKILL mid-stream, and started again.</summary>
    WorkerKill,

    /// <summary>The cloud broker stopped and started at once.</summary>
    BrokerRestart,

    /// <summary>PostgreSQL stopped with pg_ctl stop -m immediate (a crash) and started.</summary>
    PostgresRestart,

    /// <summary>Every device drops its connection and reconnects, all at once.</summary>
    ReconnectStorm,
}

/// <summary>
/// When each fault happens. The run is cut into cycles of about ten minutes (one for a run under 15 minutes); each
/// cycle spreads the six kinds of <see cref="SoakFault"/> evenly, so a three-minute run does every fault once, quickly,
/// and a thirty-minute run does each three times.
/// </summary>
internal sealed record FaultSchedule(IReadOnlyList<(TimeSpan At, SoakFault Fault)> Faults, TimeSpan UplinkCut, TimeSpan PostgresDown, int Cycles, TimeSpan CycleLength)
{
    private static readonly SoakFault[] Cycle = Enum.GetValues<SoakFault>();

    public static FaultSchedule For(TimeSpan run)
    {
        var cycles = Math.Max(1, (int)Math.Round(run.TotalMinutes / 10));
        var cycle = run / cycles;
        var slot = cycle / Cycle.Length;
        var faults = new List<(TimeSpan, SoakFault)>();
        for (var c = 0; c < cycles; c++)
        {
            for (var i = 0; i < Cycle.Length; i++)
            {
                // Each fault in the middle of its slot: the first comes after the devices have settled.
                faults.Add(((cycle * c) + (slot * (i + 0.5)), Cycle[i]));
            }
        }

        // About a minute of uplink cut per cycle, shorter in a short run so it still fits its slot.
        var uplinkCut = TimeSpan.FromSeconds(Math.Clamp(cycle.TotalSeconds / 10, 15, 60));
        var postgresDown = TimeSpan.FromSeconds(Math.Clamp(cycle.TotalSeconds / 60, 3, 10));
        return new FaultSchedule(faults, uplinkCut, postgresDown, cycles, cycle);
    }
}
