namespace Edge.Agent.Hosting;

/// <summary>When the agent started, for uptime.</summary>
internal sealed class AgentClock(TimeProvider time)
{
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public TimeSpan Uptime => time.GetUtcNow() - StartedAt;
}
