using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Edge.EndToEnd.Tests;

/// <summary>Every <c>[LoggerMessage]</c> of the product's processes, read from the compiled assemblies.</summary>
internal static class LogEvents
{
    /// <summary>The processes (and the libraries they share), each with the name an operator knows it by.</summary>
    public static readonly (string Process, Assembly Assembly)[] Assemblies =
    [
        ("edge-agent", typeof(Edge.Agent.Hosting.AgentApplication).Assembly),
        ("edge-ingest", typeof(Edge.Ingest.Ingest.BatchProcessor).Assembly),
        ("edge-ingest and edge-api (stores)", typeof(Edge.Storage.StoreFactory).Assembly),
        ("edge-api", typeof(Edge.Api.Hosting.ApiApplication).Assembly),
        ("every process (hosting)", typeof(Edge.Hosting.Metrics.MetricsListener).Assembly),
    ];

    public static IReadOnlyList<LogEvent> All() =>
        Assemblies
            .SelectMany(a => a.Assembly.GetTypes().Select(t => (a.Process, Type: t)))
            .SelectMany(t => t.Type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Select(m => (t.Process, Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(e => e.Attribute is not null)
            .Select(e => new LogEvent(e.Attribute!.EventId, e.Attribute.Level, e.Attribute.Message, e.Process,
                $"{e.Method.DeclaringType!.Assembly.GetName().Name}:{e.Method.DeclaringType.Name}.{e.Method.Name}"))
            .OrderBy(e => e.Id)
            .ToList();
}

/// <summary>One log event: its id, level (None when the caller chooses it), message template, process and method.</summary>
internal sealed record LogEvent(int Id, LogLevel Level, string Message, string Process, string Method);
