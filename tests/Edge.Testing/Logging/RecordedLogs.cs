using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Edge.Testing.Logging;

/// <summary>
/// Keeps every log line written to it (event id, level, text), so a test can check what was said: as a logger provider
/// for a whole host, or as one class's logger (<see cref="For{T}"/>).
/// </summary>
public sealed class RecordedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Entries => [.. _entries];

    public IReadOnlyList<string> WithEventId(int eventId) => [.. _entries.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public int Count(int eventId) => _entries.Count(e => e.EventId == eventId);

    /// <summary>A logger for one class that records here.</summary>
    public ILogger<T> For<T>() => new Recorder<T>(this);

    public ILogger CreateLogger(string categoryName) => new Recorder<object>(this);

    public void Dispose()
    {
    }

    private sealed class Recorder<T>(RecordedLogs logs) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs._entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}
