using Edge.Agent.Journal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Hosting;

/// <summary>
/// Opens the journal at start (so a broken journal stops the boot), stops the host if the journal faults (a failed
/// fdatasync), and closes it cleanly at stop, after the broker, so the last commit finishes first.
/// </summary>
internal sealed class JournalLifetime(ReadingJournal journal, IHostApplicationLifetime lifetime, ILogger<JournalLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        journal.Faulted.ContinueWith(
            _ =>
            {
                Environment.ExitCode = 70; // EX_SOFTWARE: systemd's Restart=on-failure brings the agent back
                lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await journal.DisposeAsync();
        Log.JournalClosed(logger);
    }
}
