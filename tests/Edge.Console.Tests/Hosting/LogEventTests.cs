using System.Reflection;
using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Console.Tests.Hosting;

/// <summary>The console's log events: in its own range (8800-8899), each id once, each in docs/console.md's table.</summary>
public sealed class LogEventTests
{
    [Fact]
    public void Every_console_log_event_is_in_its_range_used_once_and_documented()
    {
        var ids = typeof(Edge.Console.Hosting.ConsoleApplication).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .Where(a => a is not null)
            .Select(a => a!.EventId)
            .ToList();
        var doc = File.ReadAllText(RepositoryPaths.File("docs", "console.md"));

        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.InRange(id, 8800, 8899));
        Assert.All(ids, id => Assert.Contains($"| {id} |", doc, StringComparison.Ordinal));
    }
}
