using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Journal;

/// <summary>
/// Agent:Journal:MinCommitIntervalMs: routine readings wait for the interval and share a commit, each still
/// acknowledged only after its commit; urgent readings and a close do not wait. The journal's clock is a
/// <see cref="FakeTimeProvider"/> that only the test moves, so no assertion depends on how fast the machine is.
/// Every wait has a timeout, so a broken interval fails the test instead of hanging the run.
/// </summary>
public sealed class CommitIntervalTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);
    private readonly List<ReadingJournal> _opened = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Past any interval, so a journal left open by a failed assertion closes whatever the close path does.
        _time.Advance(TimeSpan.FromHours(1));
        foreach (var journal in _opened)
        {
            await journal.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Routine_readings_within_the_interval_share_one_commit_and_none_is_acknowledged_before_it()
    {
        var journal = Open(minCommitIntervalMs: 1000);
        Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry(0))).Outcome); // no commit before it: no wait

        var waiting = Enumerable.Range(1, 5).Select(i => journal.AppendAsync(Entry(i)).AsTask()).ToList();
        await Task.Delay(300); // real time passes; the journal's clock does not, so the interval has not
        Assert.All(waiting, append => Assert.False(append.IsCompleted, "a reading was acknowledged before its commit"));
        Assert.Single(journal.Read(Lane.Routine, 0, 10));
        Assert.Equal(1, journal.Commits.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        var results = await Task.WhenAll(waiting).WaitAsync(Timeout);

        Assert.All(results, r => Assert.Equal(AppendOutcome.Committed, r.Outcome));
        Assert.Equal(6, journal.Read(Lane.Routine, 0, 10).Count);
        Assert.Equal(2, journal.Commits.Count);
        Assert.Equal(6, journal.Commits.Operations);
    }

    [Fact]
    public async Task An_urgent_reading_is_committed_at_once_with_the_routine_ones_queued_before_it()
    {
        var journal = Open(minCommitIntervalMs: 1000);
        await journal.AppendAsync(Entry(0));
        var routine = journal.AppendAsync(Entry(1)).AsTask();

        var urgent = await journal.AppendAsync(Entry(2, Lane.Urgent)).AsTask().WaitAsync(Timeout);

        Assert.Equal(AppendOutcome.Committed, urgent.Outcome);
        Assert.Equal(AppendOutcome.Committed, (await routine.WaitAsync(Timeout)).Outcome);
        Assert.Single(journal.Read(Lane.Urgent, 0, 10));
        Assert.Equal(2, journal.Read(Lane.Routine, 0, 10).Count);
        Assert.Equal(2, journal.Commits.Count);
    }

    [Fact]
    public async Task A_close_commits_what_waits_for_the_interval_instead_of_dropping_it()
    {
        var journal = Open(minCommitIntervalMs: 1000);
        await journal.AppendAsync(Entry(0));
        var waiting = journal.AppendAsync(Entry(1)).AsTask();

        await journal.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(AppendOutcome.Committed, (await waiting).Outcome);
        var reopened = Open(minCommitIntervalMs: 0);
        Assert.Equal(2, reopened.Read(Lane.Routine, 0, 10).Count);
    }

    [Fact]
    public async Task Without_an_interval_nothing_waits_for_the_clock()
    {
        var journal = Open(minCommitIntervalMs: 0);
        for (var i = 0; i < 5; i++)
        {
            var result = await journal.AppendAsync(Entry(i)).AsTask().WaitAsync(Timeout);
            Assert.Equal(AppendOutcome.Committed, result.Outcome);
        }

        Assert.Equal(5, journal.Commits.Count);
    }

    private ReadingJournal Open(int minCommitIntervalMs)
    {
        var journal = ReadingJournal.Open(
            _dir.File("journal.db"),
            "gw-test",
            new JournalOptions { MinCommitIntervalMs = minCommitIntervalMs },
            _time,
            NullLogger.Instance);
        _opened.Add(journal);
        return journal;
    }

    private static NewEntry Entry(int second, Lane lane = Lane.Routine)
    {
        const string serial = "OXY-8844-5521";
        var at = Seed.Start.AddSeconds(second);
        var payload = Seed.Oxygen(serial, at, alarm: lane == Lane.Urgent ? "LOW_PURITY" : null);
        return new NewEntry(serial, DeviceKind.Oxygen, lane, at, Encoding.UTF8.GetBytes(payload));
    }
}
