namespace Edge.Cli.Simulate;

/// <summary>The one-line JSON summary of <c>edgectl simulate --json</c>, for scripts and benchmarks.</summary>
internal sealed record SimulationSummary(
    string Broker,
    int Devices,
    long Acknowledged,
    long Refused,
    IReadOnlyDictionary<string, long> RefusedByReason,
    long QuotaBackoffs,
    long Unacknowledged,
    long Reconnects,
    long Errors,
    int DevicesNeverConnected,
    IReadOnlyDictionary<string, int> ConnectionsRefusedByReason,
    double ElapsedSeconds,
    double ReadingsPerSecond,
    double LatencyP50Ms,
    double LatencyP99Ms,
    double LatencyMaxMs,
    bool Cancelled,
    string? LastError)
{
    public static SimulationSummary From(LoadGeneratorResult result, string broker) => new(
        broker,
        result.Devices,
        result.Acknowledged,
        result.Refused,
        result.RefusedByReason.ToDictionary(pair => pair.Key.ToString(), pair => pair.Value, StringComparer.Ordinal),
        result.QuotaBackoffs,
        result.Unacknowledged,
        result.Reconnects,
        result.Errors,
        result.DevicesNeverConnected,
        result.ConnectionsRefusedByReason.ToDictionary(pair => pair.Key.ToString(), pair => pair.Value, StringComparer.Ordinal),
        Math.Round(result.Elapsed.TotalSeconds, 3),
        Math.Round(result.ReadingsPerSecond, 1),
        Math.Round(result.LatencyP50Milliseconds, 3),
        Math.Round(result.LatencyP99Milliseconds, 3),
        Math.Round(result.LatencyMaxMilliseconds, 3),
        result.Cancelled,
        result.LastError);
}
