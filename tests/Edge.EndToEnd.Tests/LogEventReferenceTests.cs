using System.Text;
using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.EndToEnd.Tests;

/// <summary>docs/reference/log-events.md lists every log event of every process, generated from the code.</summary>
public sealed class LogEventReferenceTests
{
    /// <summary>Set to 1 to rewrite the generated page after an intended change.</summary>
    private const string UpdateVariable = "EDGE_UPDATE_DOCS";

    [Fact]
    public void The_committed_log_event_page_is_generated_from_the_code()
    {
        var rendered = Render(LogEvents.All());
        var path = RepositoryPaths.File("docs", "reference", "log-events.md");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, rendered);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run {UpdateVariable}=1 dotnet test tests/Edge.EndToEnd.Tests --filter LogEventReferenceTests");
        Assert.True(File.ReadAllText(path) == rendered,
            $"docs/reference/log-events.md differs from the [LoggerMessage] attributes in the code; run {UpdateVariable}=1 dotnet test tests/Edge.EndToEnd.Tests --filter LogEventReferenceTests and commit the file");
    }

    internal static string Render(IReadOnlyList<LogEvent> events)
    {
        var page = new StringBuilder();
        page.Append("""
            # Log events

            <!-- Generated from the [LoggerMessage] attributes in the code; do not edit. After changing a log line run:
                 EDGE_UPDATE_DOCS=1 dotnet test tests/Edge.EndToEnd.Tests --filter LogEventReferenceTests -->

            Every line the agent, the ingest worker and the API log carries a stable event id in brackets after the logger's
            name (`Edge.Agent.Diagnostics.Log[2002]`): search for it with `journalctl -u edge-agent | grep '\[2002\]'`. An id
            means one thing in every process and is never reused (`LogEventIdTests`). The ranges, by thousands: 1 journal, 2 device
            broker, 3 ingest, 4 credentials and admin socket, 5 stores (cloud), 6 uplink and gateway, 7 ingest worker,
            8 API, 9 hosting. What to do about the events that need action: [operations](../operations.md) and the
            [runbooks](../runbooks/README.md). Placeholders in braces are filled in on each line.

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        foreach (var process in events.GroupBy(e => e.Process).OrderBy(g => g.Min(e => e.Id)))
        {
            page.Append('\n').Append("## ").Append(process.Key).Append("\n\n");
            page.Append("| id | level | message |\n| ---: | --- | --- |\n");
            foreach (var e in process)
            {
                page.Append("| ").Append(e.Id).Append(" | ").Append(e.Level == LogLevel.None ? "varies" : e.Level.ToString())
                    .Append(" | ").Append(Escape(e.Message)).Append(" |\n");
            }
        }

        return page.ToString();
    }

    // Table cells: a pipe would end the cell, a backtick would open code.
    private static string Escape(string message) =>
        message.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
