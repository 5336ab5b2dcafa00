using Edge.Agent.Journal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Hosting;

/// <summary>Opens the journal at start (so a broken journal stops the boot) and closes it cleanly at stop.</summary>
internal sealed class JournalLifetime(ReadingJournal journal, ILogger<JournalLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await journal.DisposeAsync();
        Log.JournalClosed(logger);
    }
}
