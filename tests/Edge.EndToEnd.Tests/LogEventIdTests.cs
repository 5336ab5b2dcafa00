namespace Edge.EndToEnd.Tests;

/// <summary>Event ids are what a technician searches logs for: each one means one thing across every process.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_event_id_is_used_once_across_the_system()
    {
        var events = LogEvents.All();

        Assert.NotEmpty(events);
        var clashes = events.GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();
        Assert.True(clashes.Count == 0, "event ids used twice:\n" + string.Join('\n', clashes));
    }
}
