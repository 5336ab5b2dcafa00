namespace Edge.Agent.Uplink;

/// <summary>Which publish goes first when the uplink's pacing budget is spent.</summary>
internal enum UplinkPriority
{
    /// <summary>Urgent readings (alarms): served before anything else that waits for the budget.</summary>
    Urgent,

    /// <summary>Routine readings, events and report messages.</summary>
    Normal,

    /// <summary>The heartbeat: goes only when no urgent or normal publish is waiting for the budget.</summary>
    Low,
}
