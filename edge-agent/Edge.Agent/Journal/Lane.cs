namespace Edge.Agent.Journal;

/// <summary>
/// Journal lanes. Urgent (alarms) is sent first and never shed; routine is shed oldest first when the quota is hit.
/// </summary>
internal enum Lane
{
    Urgent = 0,
    Routine = 1,
}

internal static class Lanes
{
    public static readonly Lane[] All = [Lane.Urgent, Lane.Routine];

    public static string Name(Lane lane) => lane == Lane.Urgent ? "urgent" : "routine";
}
