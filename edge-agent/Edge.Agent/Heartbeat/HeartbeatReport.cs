using Edge.Agent.Broker;
using Edge.Agent.Hosting;
using Edge.Agent.Journal;
using Edge.Agent.Uplink;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Heartbeat;

/// <summary>Builds a heartbeat from what the agent knows now: journal backlog, drops, certificate, clocks, devices.</summary>
internal sealed class HeartbeatReport(
    ReadingJournal journal,
    UplinkState uplink,
    ConnectedDevices connected,
    Renewal.RenewalState renewal,
    Clock.DeviceClocks clocks,
    AgentClock clock,
    IOptions<HeartbeatOptions> options,
    TimeProvider time)
{
    public GatewayHeartbeat Build(string gatewayId)
    {
        var now = time.GetUtcNow();
        var snapshot = journal.Snapshot;
        TimeSpan? oldest = null;
        foreach (var lane in Lanes.All)
        {
            if (journal.OldestAge(lane) is { } age && (oldest is null || age > oldest))
            {
                oldest = age;
            }
        }

        var skewed = clocks.Skewed();
        double? maxSkew = skewed.Count == 0 ? null : skewed.MaxBy(d => d.LastSkew.Duration()).LastSkew.TotalSeconds;
        return new GatewayHeartbeat(
            gatewayId,
            now,
            AgentVersion.Current,
            options.Value.IntervalSeconds,
            clock.StartedAt,
            snapshot.EntriesPerLane.Sum(),
            oldest is { } o ? now - o : null,
            snapshot.ShedByReason.Values.Sum(),
            NotStoredCounts.Now(journal, uplink),
            renewal.NotAfter,
            clocks.GatewaySynchronized,
            skewed.Count,
            maxSkew,
            connected.Count);
    }
}
