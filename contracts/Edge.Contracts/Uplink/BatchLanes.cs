namespace Edge.Contracts.Uplink;

/// <summary>The journal lanes a batch comes from; a batch never mixes them, so urgent readings are never queued behind routine ones.</summary>
public static class BatchLanes
{
    /// <summary>Alarms and out-of-threshold readings: sent first, never shed.</summary>
    public const string Urgent = "urgent";

    /// <summary>Everything else.</summary>
    public const string Routine = "routine";

    public static bool IsKnown(string? lane) => lane is Urgent or Routine;
}
