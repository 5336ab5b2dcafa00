using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Edge.Sync.Tests;

/// <summary>Event ids are what a technician searches logs for: each one means one thing across every process.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_event_id_is_used_once_across_the_system()
    {
        var assemblies = new[]
        {
            typeof(Edge.Agent.Hosting.AgentApplication).Assembly,
            typeof(Edge.Ingest.Ingest.BatchProcessor).Assembly,
            typeof(Edge.Api.Hosting.ApiApplication).Assembly,
            typeof(Edge.Storage.StoreFactory).Assembly,
            typeof(Edge.Hosting.Metrics.MetricsListener).Assembly,
        };
        var events = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Assembly.GetName().Name}:{m.DeclaringType.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Attribute is not null)
            .ToList();

        Assert.NotEmpty(events);
        var clashes = events.GroupBy(e => e.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();
        Assert.True(clashes.Count == 0, "event ids used twice:\n" + string.Join('\n', clashes));
    }
}
