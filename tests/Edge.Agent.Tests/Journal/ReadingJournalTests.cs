using System.Text;
using Edge.Agent.Journal;
using Edge.Hosting.Metrics;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Contracts.Devices;
using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Tests.Journal;

public sealed class ReadingJournalTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Appended_readings_are_read_back_in_sequence_order_with_their_identity()
    {
        await using var journal = Open();
        var first = await journal.AppendAsync(Entry("OXY-8844-5521", 0));
        var second = await journal.AppendAsync(Entry("OXY-8844-5521", 1));

        Assert.Equal(AppendOutcome.Committed, first.Outcome);
        Assert.Equal(first.Sequence + 1, second.Sequence);
        var read = journal.Read(Lane.Routine, 0, 10);
        Assert.Equal([first.Sequence, second.Sequence], read.Select(e => e.Sequence));
        Assert.Equal("OXY-8844-5521", read[0].Serial);
        Assert.Equal(DeviceKind.Oxygen, read[0].Kind);
        Assert.Equal(Seed.Start, read[0].DeviceTime);
        Assert.Equal(Seed.Oxygen("OXY-8844-5521", Seed.Start), Encoding.UTF8.GetString(read[0].Payload));
    }

    [Fact]
    public async Task Group_commit_statistics_count_every_commit_and_what_it_held()
    {
        await using var journal = Open();
        Assert.Equal(new CommitStatistics(0, 0, TimeSpan.Zero), journal.Commits);

        for (var i = 0; i < 10; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        var sequential = journal.Commits;
        Assert.Equal(10, sequential.Count);
        Assert.Equal(1.0, sequential.OperationsPerCommit);
        Assert.True(sequential.SyncTime > TimeSpan.Zero, "ten commits with fdatasync on took no sync time");

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => journal.AppendAsync(Entry($"OXY-8844-{i:0000}", 100 + i)).AsTask()));
        var concurrent = journal.Commits;
        Assert.Equal(110, concurrent.Operations);
        Assert.InRange(concurrent.Count, 11, 110);
        Assert.Equal(concurrent.SyncTime.TotalMilliseconds / concurrent.Count, concurrent.SyncMillisecondsPerCommit, 6);
    }

    [Fact]
    public async Task Reading_from_a_cursor_returns_only_later_entries()
    {
        await using var journal = Open();
        for (var i = 0; i < 10; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        var page = journal.Read(Lane.Routine, afterSequence: 4, maxCount: 3);
        Assert.Equal([5L, 6L, 7L], page.Select(e => e.Sequence));
    }

    [Fact]
    public async Task A_range_ack_can_cut_through_a_group_commit_and_cursors_inside_it_work()
    {
        await using (var journal = Open())
        {
            // Concurrent appends land in the same group commit, i.e. the same stored segment.
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i => journal.AppendAsync(Entry($"OXY-8844-{i:0000}", i)).AsTask()));

            Assert.Equal(51, await journal.DeleteRangeAsync(Lane.Routine, 10, 60));

            Assert.Equal([.. Enumerable.Range(1, 9).Select(i => (long)i), .. Enumerable.Range(61, 40).Select(i => (long)i)], journal.Read(Lane.Routine, 0, 1000).Select(e => e.Sequence));
            Assert.Equal(Enumerable.Range(71, 30).Select(i => (long)i), journal.Read(Lane.Routine, 70, 1000).Select(e => e.Sequence));
            Assert.Equal([5L, 6L, 7L], journal.Read(Lane.Routine, 4, 3).Select(e => e.Sequence));
            Assert.Equal(49, journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        }

        await using var reopened = Open();
        Assert.Equal(49, reopened.Read(Lane.Routine, 0, 1000).Count);
        Assert.Equal(49, reopened.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    [Fact]
    public async Task A_cursor_inside_an_older_group_commit_resumes_right_after_it()
    {
        await using var journal = Open();
        // Three group commits of ten readings each: three stored segments.
        for (var group = 0; group < 3; group++)
        {
            await Task.WhenAll(Enumerable.Range(group * 10, 10).Select(i => journal.AppendAsync(Entry($"OXY-8844-{i:0000}", i)).AsTask()));
        }

        Assert.Equal(Enumerable.Range(16, 15).Select(i => (long)i), journal.Read(Lane.Routine, 15, 100).Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(6, 25).Select(i => (long)i), journal.Read(Lane.Routine, 5, 100).Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(26, 5).Select(i => (long)i), journal.Read(Lane.Routine, 25, 100).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Range_deletes_interleaved_with_group_commits_leave_nothing_behind()
    {
        await using var journal = Open(sync: true);
        var random = new Random(7);
        var deletedUpTo = new long[2];
        var appended = 0;
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                var n = Interlocked.Increment(ref appended);
                await journal.AppendAsync(Entry($"OXY-8844-{n % 50:0000}", n, n % 7 == 0 ? Lane.Urgent : Lane.Routine));
            }
        })).ToArray();

        // The admin status reads the journal from other threads at the same time.
        using var stopReaders = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(reader => Task.Run(() =>
        {
            while (!stopReaders.IsCancellationRequested)
            {
                _ = journal.OldestAge(Lane.Routine);
                _ = journal.Read(Lane.Urgent, 0, 5);
            }
        })).ToArray();

        // Like the uplink: read a lane from a cursor, take a prefix as a batch, keep several batches "in flight",
        // and delete their ranges as acks arrive: out of order, and sometimes twice.
        var inFlight = new List<(Lane Lane, long First, long Last)>();
        while (writers.Any(t => !t.IsCompleted) || journal.Snapshot.EntriesPerLane.Sum() > 0 || inFlight.Count > 0)
        {
            foreach (var lane in Lanes.All)
            {
                var batch = journal.Read(lane, deletedUpTo[(int)lane], random.Next(1, 40));
                if (batch.Count > 0)
                {
                    var take = random.Next(1, batch.Count + 1);
                    inFlight.Add((lane, batch[0].Sequence, batch[take - 1].Sequence));
                    deletedUpTo[(int)lane] = batch[take - 1].Sequence;
                }
            }

            while (inFlight.Count > (writers.Any(t => !t.IsCompleted) ? 4 : 0))
            {
                var ack = inFlight[random.Next(inFlight.Count)];
                await journal.DeleteRangeAsync(ack.Lane, ack.First, ack.Last);
                if (random.Next(5) == 0)
                {
                    await journal.DeleteRangeAsync(ack.Lane, ack.First, ack.Last); // a duplicate ack
                }

                inFlight.Remove(ack);
            }

            await Task.Yield();
        }

        await Task.WhenAll(writers);
        await stopReaders.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Empty(journal.Read(Lane.Routine, 0, 100_000));
        Assert.Empty(journal.Read(Lane.Urgent, 0, 100_000));
        Assert.Equal(0, journal.Snapshot.EntriesPerLane.Sum());
    }

    [Fact]
    public async Task Shedding_takes_the_oldest_readings_out_of_a_group_commit_one_by_one()
    {
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        await using var journal = Open(quotaBytes: entrySize * 10);
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => journal.AppendAsync(Entry("OXY-8844-5521", i)).AsTask()));

        for (var i = 10; i < 13; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        Assert.Equal(Enumerable.Range(4, 10).Select(i => (long)i), journal.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
        Assert.Equal(3, journal.Snapshot.ShedByReason["quota"]);
    }

    [Fact]
    public async Task The_journal_meter_shows_what_waits_how_old_it_is_and_what_was_shed()
    {
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        await using var journal = Open(quotaBytes: entrySize * 10);
        using var metrics = new MetricsCollector([journal.Meter]);
        for (var i = 0; i < 12; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        _time.Advance(TimeSpan.FromSeconds(90));
        var lines = metrics.Render().Split('\n');

        Assert.Contains("edge_journal_entries{lane=\"routine\"} 10", lines);
        Assert.Contains("edge_journal_entries{lane=\"urgent\"} 0", lines);
        Assert.Contains($"edge_journal_size_bytes{{lane=\"routine\"}} {journal.Snapshot.BytesPerLane[(int)Lane.Routine]}", lines);
        Assert.Contains("edge_journal_shed_total{reason=\"quota\"} 2", lines);
        Assert.Contains("edge_journal_oldest_age_seconds{lane=\"routine\"} 90", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("edge_journal_oldest_age_seconds{lane=\"urgent\"}", StringComparison.Ordinal));
        Assert.Contains($"edge_journal_quota_bytes {entrySize * 10}", lines);
        Assert.Contains($"edge_journal_used_bytes {journal.Snapshot.UsedBytes}", lines);
        Assert.Contains($"edge_journal_group_size_count {journal.Commits.Count}", lines);
    }

    [Fact]
    public async Task Sequence_and_epoch_survive_a_reopen_and_a_new_file_gets_a_new_epoch()
    {
        long epoch;
        long last;
        await using (var journal = Open())
        {
            epoch = journal.Epoch;
            await journal.AppendAsync(Entry("OXY-8844-5521", 0));
            last = (await journal.AppendAsync(Entry("OXY-8844-5521", 1))).Sequence;
            await journal.DeleteRangeAsync(Lane.Routine, 1, last);
        }

        await using (var reopened = Open())
        {
            Assert.Equal(epoch, reopened.Epoch);
            var next = await reopened.AppendAsync(Entry("OXY-8844-5521", 2));
            Assert.Equal(last + 1, next.Sequence); // never reused, even after the entries were deleted
        }

        await using var other = ReadingJournal.Open(_dir.File("other.db"), "gw-test", Options(), _time, NullLogger.Instance);
        Assert.NotEqual(epoch, other.Epoch);
    }

    [Fact]
    public async Task The_published_mark_only_rises_stays_within_what_was_journaled_and_survives_a_reopen()
    {
        await using (var journal = Open())
        {
            for (var i = 0; i < 5; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            await journal.MarkPublishedAsync(Lane.Routine, 3);
            await journal.MarkPublishedAsync(Lane.Routine, 2); // a re-sent older batch does not lower it
            Assert.Equal(3, journal.PublishedThrough(Lane.Routine));
            Assert.Equal(0, journal.PublishedThrough(Lane.Urgent));

            await journal.MarkPublishedAsync(Lane.Urgent, 1_000); // never past the last sequence journaled
            Assert.Equal(5, journal.PublishedThrough(Lane.Urgent));

            // A commit of readings only carries the counters in its segment, not the meta document: the mark rides along.
            await journal.AppendAsync(Entry("OXY-8844-5521", 10));
        }

        await using var reopened = Open();
        Assert.Equal(3, reopened.PublishedThrough(Lane.Routine));
        Assert.Equal(5, reopened.PublishedThrough(Lane.Urgent));
    }

    [Fact]
    public async Task Deleting_a_range_removes_only_that_lane_and_range_and_frees_its_bytes()
    {
        await using var journal = Open();
        for (var i = 0; i < 5; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        await journal.AppendAsync(Entry("OXY-8844-5521", 5, Lane.Urgent));
        var before = journal.Snapshot.UsedBytes;

        var removed = await journal.DeleteRangeAsync(Lane.Routine, 2, 4);

        Assert.Equal(3, removed);
        Assert.Equal([1L, 5L], journal.Read(Lane.Routine, 0, 10).Select(e => e.Sequence));
        Assert.Single(journal.Read(Lane.Urgent, 0, 10));
        Assert.True(journal.Snapshot.UsedBytes < before);
        Assert.Equal(2, journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    [Fact]
    public async Task The_same_reading_sent_twice_is_journaled_once_but_a_different_reading_with_the_same_timestamp_is_kept()
    {
        await using var journal = Open();
        var reading = Entry("CPAP-2301-9912", 0);
        Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(reading)).Outcome);
        Assert.Equal(AppendOutcome.Duplicate, (await journal.AppendAsync(reading)).Outcome);

        var sameSecondOtherValues = reading with { Payload = Encoding.UTF8.GetBytes(Seed.Cpap("CPAP-2301-9912", Seed.Start, leak: 25)) };
        Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(sameSecondOtherValues)).Outcome);
        Assert.Equal(2, journal.Read(Lane.Routine, 0, 10).Count);
    }

    [Theory]
    [InlineData(17, 100)]
    [InlineData(100, 100)]
    [InlineData(250, 250)]
    public async Task Every_reading_of_a_window_within_the_receive_maximum_re_sent_oldest_first_is_recognised(int inFlight, int receiveMaximum)
    {
        // The device's PUBACKs were lost: it re-sends all it had in flight, oldest first; none may push a newer one out.
        await using var journal = ReadingJournal.Open(_dir.File("journal.db"), "gw-test", Options(sync: false), _time, NullLogger.Instance, FileSync.DataSync, receiveMaximum);
        var readings = Enumerable.Range(0, inFlight).Select(i => Entry("OXY-8844-5521", i)).ToList();
        foreach (var reading in readings)
        {
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(reading)).Outcome);
        }

        foreach (var reading in readings)
        {
            Assert.Equal(AppendOutcome.Duplicate, (await journal.AppendAsync(reading)).Outcome);
        }

        Assert.Equal(inFlight, journal.Read(Lane.Routine, 0, 1000).Count);
    }

    [Fact]
    public async Task A_duplicate_is_still_recognised_after_a_restart()
    {
        var reading = Entry("CPAP-2301-9912", 0);
        await using (var journal = Open())
        {
            await journal.AppendAsync(reading);
        }

        await using var reopened = Open();
        Assert.Equal(AppendOutcome.Duplicate, (await reopened.AppendAsync(reading)).Outcome);
    }

    [Fact]
    public async Task At_quota_routine_readings_are_shed_oldest_first_and_counted_while_urgent_ones_are_kept()
    {
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        await using var journal = Open(quotaBytes: entrySize * 10);
        for (var i = 0; i < 3; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i, Lane.Urgent));
        }

        for (var i = 3; i < 10; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i));
        }

        // Full. Five more routine readings push out the five oldest routine ones.
        for (var i = 10; i < 15; i++)
        {
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", i))).Outcome);
        }

        var routine = journal.Read(Lane.Routine, 0, 100);
        Assert.Equal(Enumerable.Range(8, 7).Select(i => (long)i + 1), routine.Select(e => e.Sequence));
        Assert.Equal(3, journal.Read(Lane.Urgent, 0, 100).Count);
        Assert.Equal(5, journal.Snapshot.ShedByReason["quota"]);
        Assert.True(journal.Snapshot.UsedBytes <= entrySize * 10);
    }

    [Fact]
    public async Task When_only_urgent_readings_are_left_the_journal_refuses_with_quota_exceeded_and_sheds_nothing()
    {
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        await using var journal = Open(quotaBytes: entrySize * 4);
        for (var i = 0; i < 4; i++)
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", i, Lane.Urgent));
        }

        Assert.Equal(AppendOutcome.QuotaExceeded, (await journal.AppendAsync(Entry("OXY-8844-5521", 4, Lane.Urgent))).Outcome);
        Assert.Equal(AppendOutcome.QuotaExceeded, (await journal.AppendAsync(Entry("OXY-8844-5521", 5))).Outcome);
        Assert.Equal(4, journal.Read(Lane.Urgent, 0, 100).Count);
        Assert.False(journal.Snapshot.ShedByReason.ContainsKey("quota"));
    }

    [Fact]
    public async Task Counters_are_exact_after_reopen_without_scanning()
    {
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        await using (var journal = Open(quotaBytes: entrySize * 5))
        {
            for (var i = 0; i < 8; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            await journal.AppendAsync(Entry("OXY-8844-5521", 8, Lane.Urgent));
        }

        await using var reopened = Open(quotaBytes: entrySize * 5);
        var snapshot = reopened.Snapshot;
        Assert.Equal(9, snapshot.LastSequence);
        Assert.Equal(1, snapshot.EntriesPerLane[(int)Lane.Urgent]);
        Assert.Equal(reopened.Read(Lane.Routine, 0, 100).Count, snapshot.EntriesPerLane[(int)Lane.Routine]);
        Assert.Equal(snapshot.EntriesPerLane.Sum() * entrySize, snapshot.UsedBytes);
        Assert.Equal(4, snapshot.ShedByReason["quota"]); // 8 routine + 1 urgent into 5 slots
        Assert.Equal(4, reopened.Read(Lane.Routine, 0, 100).Count);
    }

    [Fact]
    public async Task Counters_carried_by_the_last_segment_are_exact_after_a_crash()
    {
        // Commits of readings only leave the meta document alone and carry the counters in their last segment. A copy
        // of the open files is what a crash leaves behind: the meta document in it is as old as the journal's open.
        var entrySize = EntrySize(Entry("OXY-8844-5521", 0));
        var crashed = _dir.File("crashed.db");
        JournalSnapshot live;
        await using (var journal = Open(quotaBytes: entrySize * 5))
        {
            for (var i = 0; i < 8; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            await journal.AppendAsync(Entry("OXY-8844-5521", 8, Lane.Urgent));
            live = journal.Snapshot;
            CopyOpenFile(_dir.File("journal.db"), crashed);
            CopyOpenFile(ReadingJournal.LogPathFor(_dir.File("journal.db")), ReadingJournal.LogPathFor(crashed));
        }

        using (var raw = new LiteDatabase(new ConnectionString { Filename = crashed, Connection = ConnectionType.Direct, ReadOnly = true }))
        {
            Assert.Equal(0, raw.GetCollection("meta").FindById("journal")["seq"].AsInt64); // the proof that segments carried them
        }

        await using var reopened = ReadingJournal.Open(crashed, "gw-test", Options(quotaBytes: entrySize * 5), _time, NullLogger.Instance);
        var snapshot = reopened.Snapshot;
        Assert.Equal(9, snapshot.LastSequence);
        Assert.Equal(live.EntriesPerLane, snapshot.EntriesPerLane);
        Assert.Equal(live.UsedBytes, snapshot.UsedBytes);
        Assert.Equal(4, snapshot.ShedByReason["quota"]);
        Assert.Equal(10, (await reopened.AppendAsync(Entry("OXY-8844-5521", 9, Lane.Urgent))).Sequence);
    }

    [Fact]
    public async Task After_a_failed_fdatasync_nothing_is_acknowledged_or_written_and_a_restart_reads_what_reached_the_disk()
    {
        var path = _dir.File("journal.db");
        var sync = new FailingSync();
        var dataAtFailure = _dir.File("data-at-failure.db");
        await using (var journal = Open(dataSync: sync.Sync))
        {
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", 0))).Outcome);

            sync.FailNext();
            var inFailingGroup = journal.AppendAsync(Entry("OXY-8844-5521", 1)).AsTask();
            await sync.Entered.WaitAsync(TimeSpan.FromSeconds(30));
            // These arrive while the writer is inside the failing fdatasync, so they wait for a group that never comes.
            var queuedBehind = Enumerable.Range(2, 5).Select(i => journal.AppendAsync(Entry("OXY-8844-5521", i)).AsTask()).ToList();
            CopyOpenFile(path, dataAtFailure);
            sync.Release();

            await Assert.ThrowsAsync<IOException>(() => inFailingGroup);
            foreach (var append in queuedBehind)
            {
                await Assert.ThrowsAsync<IOException>(() => append);
            }

            await Assert.ThrowsAsync<IOException>(() => journal.Faulted);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await journal.AppendAsync(Entry("OXY-8844-5521", 7)));
        }

        // The close wrote nothing: no meta document and no checkpoint into the data file, the log left as it was.
        Assert.Equal(File.ReadAllBytes(dataAtFailure), File.ReadAllBytes(path));
        Assert.True(new FileInfo(ReadingJournal.LogPathFor(path)).Length > 0);

        // Restarted: the acknowledged reading is there, nothing queued behind the failure is, and the counters agree
        // with the entries. The failed group may or may not have reached the disk; its device re-sends the reading
        // (it never got a PUBACK) and the journal then holds it exactly once.
        await using var restarted = Open();
        var entries = restarted.Read(Lane.Routine, 0, 100);
        Assert.Equal(Seed.Start, entries[0].DeviceTime);
        Assert.DoesNotContain(entries, e => e.DeviceTime >= Seed.Start.AddSeconds(2));
        Assert.Equal(entries.Count, restarted.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        var resent = await restarted.AppendAsync(Entry("OXY-8844-5521", 1));
        Assert.Equal(entries.Count == 2 ? AppendOutcome.Duplicate : AppendOutcome.Committed, resent.Outcome);
        Assert.Single(restarted.Read(Lane.Routine, 0, 100), e => e.DeviceTime == Seed.Start.AddSeconds(1));
    }

    [Fact]
    public async Task A_failed_fdatasync_on_the_commit_that_makes_a_checkpoint_due_is_not_followed_by_the_checkpoint()
    {
        var path = _dir.File("journal.db");
        var logPath = ReadingJournal.LogPathFor(path);
        var sync = new FailingSync();
        var dataBefore = _dir.File("data-before.db");

        // LiteDB's own commit path (each commit synced in LiteDB's log); the write-ahead path's equivalent is in
        // WriteAheadLogTests: a failed sync of LiteDB on a full log is not followed by the log starting over.
        await using (var journal = Open(dataSync: sync.Sync, writeAheadLog: false))
        {
            // Fill the log to just under the idle checkpoint threshold (4,000 pages of 8 KiB), one commit at a time.
            for (var i = 0; new FileInfo(logPath).Length / DataFileStream.PageBytes < 3_990; i++)
            {
                Assert.True(i < 20_000, "the log never came near the checkpoint threshold");
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            CopyOpenFile(path, dataBefore);
            sync.FailNext();
            sync.Release();

            // 64 KiB of payload: this commit alone takes the log past the threshold, with nothing queued behind it.
            var big = new NewEntry("OXY-8844-5521", DeviceKind.Oxygen, Lane.Routine, Seed.Start.AddDays(1), new byte[64 * 1024]);
            await Assert.ThrowsAsync<IOException>(async () => await journal.AppendAsync(big));
            Assert.True(new FileInfo(logPath).Length / DataFileStream.PageBytes >= 4_000, "the failing commit did not make a checkpoint due");
        }

        Assert.Equal(File.ReadAllBytes(dataBefore), File.ReadAllBytes(path));
    }

    /// <summary>The journal holds its files exclusively (an advisory lock .NET honours); cp copies them as a crash leaves them.</summary>
    private static void CopyOpenFile(string from, string to)
    {
        using var cp = System.Diagnostics.Process.Start("cp", [from, to]);
        cp.WaitForExit();
        Assert.Equal(0, cp.ExitCode);
    }

    [Fact]
    public async Task A_large_journal_reopens_with_its_counts_and_keeps_its_sequence()
    {
        const int count = 50_000;
        await using (var journal = Open(sync: false))
        {
            var pending = new List<Task<AppendResult>>();
            for (var i = 0; i < count; i++)
            {
                pending.Add(journal.AppendAsync(Entry($"OXY-8844-{i % 100:0000}", i)).AsTask());
            }

            await Task.WhenAll(pending);
        }

        await using var reopened = Open();
        Assert.Equal(count, reopened.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        Assert.Equal(count, reopened.Snapshot.LastSequence);
        Assert.Equal(count + 1, (await reopened.AppendAsync(Entry("OXY-8844-0000", count + 1))).Sequence);
        Assert.Equal(count - 9, reopened.Read(Lane.Routine, count - 10, 100)[0].Sequence);
    }

    [Fact]
    public async Task A_journal_written_in_the_unpacked_segment_layout_is_read_acked_and_reopened()
    {
        // Releases before the packed layout stored a segment's entries as a BSON array of { q, s, t, r, p } documents.
        await using (var journal = Open())
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => journal.AppendAsync(Entry($"OXY-8844-{i:0000}", i)).AsTask()));
        }

        RewriteSegmentsUnpacked(_dir.File("journal.db"));

        await using (var journal = Open())
        {
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), journal.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
            Assert.Equal("OXY-8844-0000", journal.Read(Lane.Routine, 0, 1)[0].Serial);
            Assert.Equal(Seed.Oxygen("OXY-8844-0003", Seed.Start.AddSeconds(3)), Encoding.UTF8.GetString(journal.Read(Lane.Routine, 3, 1)[0].Payload));
            Assert.NotNull(journal.OldestAge(Lane.Routine));
            Assert.Equal(AppendOutcome.Duplicate, (await journal.AppendAsync(Entry("OXY-8844-0005", 5))).Outcome);

            // An ack cutting through the old segment rewrites what is left of it in the packed layout.
            Assert.Equal(10, await journal.DeleteRangeAsync(Lane.Routine, 6, 15));
        }

        await using var reopened = Open();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 16L, 17L, 18L, 19L, 20L], reopened.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
        Assert.Equal(10, reopened.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    /// <summary>Turns every routine segment of a closed journal into the layout earlier releases wrote.</summary>
    private static void RewriteSegmentsUnpacked(string path)
    {
        using var data = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        using var log = new FileStream(ReadingJournal.LogPathFor(path), FileMode.OpenOrCreate, FileAccess.ReadWrite);
        using var db = new LiteDatabase(new LiteEngine(new EngineSettings { DataStream = data, LogStream = log }));
        var routine = db.GetCollection("routine");
        foreach (var segment in routine.FindAll().ToList())
        {
            var entries = new BsonArray(Segment.Entries(segment).Select(e => new BsonDocument
            {
                ["q"] = e.Sequence,
                ["s"] = e.Serial,
                ["t"] = e.DeviceTicks,
                ["r"] = e.ReceivedTicks,
                ["p"] = e.Payload,
            }));
            routine.Update(new BsonDocument { ["_id"] = segment["_id"], ["l"] = segment["l"], ["e"] = entries });
        }

        Assert.All(routine.FindAll(), segment => Assert.False(segment.ContainsKey("b")));
        db.Checkpoint();
    }

    [Fact]
    public async Task The_writer_checkpoints_the_log_between_commits_so_it_stays_bounded()
    {
        // Automatic LiteDB checkpoints are off (they ran inside a commit); one commit per append grows the log by a few
        // pages each, so 2,000 of them pass the 4,000-page idle threshold at least once.
        long largestLog = 0;
        var logPath = ReadingJournal.LogPathFor(_dir.File("journal.db"));

        // LiteDB's own commit path; the write-ahead path writes LiteDB's log once per batch, and its equivalent is in
        // WriteAheadLogTests: a clean close leaves both logs empty.
        await using (var journal = Open(writeAheadLog: false))
        {
            for (var i = 0; i < 2000; i++)
            {
                Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", i))).Outcome);
                largestLog = Math.Max(largestLog, new FileInfo(logPath).Length);
            }

            Assert.True(new FileInfo(logPath).Length < largestLog, $"the log only grew (to {largestLog} bytes): no checkpoint ran");
            Assert.Equal(2000, journal.Read(Lane.Routine, 0, 5000).Count);
        }

        Assert.Equal(0, new FileInfo(logPath).Length); // a clean close checkpoints what is left
        await using var reopened = Open(writeAheadLog: false);
        Assert.Equal(2000, reopened.Read(Lane.Routine, 0, 5000).Count);
    }

    [Fact]
    public async Task Dead_letters_are_bounded_and_listed_newest_first()
    {
        await using var journal = Open(deadLetterCapacity: 10);
        for (var i = 0; i < 15; i++)
        {
            journal.AddDeadLetter(new DeadLetter(Seed.Start.AddSeconds(i), "OXY-8844-5521", "devices/OXY-8844-5521/telemetry", "PayloadFormatInvalid", $"bad {i}", new byte[5000]));
        }

        await journal.AppendAsync(Entry("OXY-8844-5521", 0)); // dead letters ride on the next group commit

        var letters = journal.ListDeadLetters(100);
        Assert.Equal(10, letters.Count);
        Assert.Equal("bad 14", letters[0].Letter.Reason);
        Assert.Equal(5000, letters[0].PayloadBytes);
        Assert.Equal(4096, letters[0].Letter.Payload.Length); // only a preview is kept
        Assert.Equal(10, journal.Snapshot.DeadLetters);
    }

    [Fact]
    public async Task A_journal_refuses_to_open_under_another_gateway_id()
    {
        await using (Open())
        {
        }

        var error = Assert.Throws<InvalidOperationException>(() =>
            ReadingJournal.Open(_dir.File("journal.db"), "gw-other", Options(), _time, NullLogger.Instance));
        Assert.Contains("gw-test", error.Message);
        Assert.Contains("Agent:GatewayId", error.Message);
    }

    [Fact]
    public async Task An_encrypted_journal_needs_its_key_and_the_key_file_must_be_private()
    {
        var key = _dir.File("journal.key");
        await File.WriteAllTextAsync(key, "a-long-enough-test-key-0123456789");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var journal = Open(encryptionKeyFile: key))
        {
            Assert.True(journal.Encrypted);
            await journal.AppendAsync(Entry("OXY-8844-5521", 0));
        }

        await using (var reopened = Open(encryptionKeyFile: key))
        {
            Assert.Single(reopened.Read(Lane.Routine, 0, 10));
        }

        Assert.ThrowsAny<Exception>(() => Open());
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Open(encryptionKeyFile: key));
        Assert.Contains("chmod 600", error.Message);
    }

    // writeAheadLog: null keeps the setting's default; the tests of a property of one path say which.
    private ReadingJournal Open(long quotaBytes = 1L << 30, bool sync = true, int deadLetterCapacity = 1000, string? encryptionKeyFile = null, Action<SafeFileHandle>? dataSync = null,
        bool? writeAheadLog = null) =>
        ReadingJournal.Open(_dir.File("journal.db"), "gw-test", Options(quotaBytes, sync, deadLetterCapacity, encryptionKeyFile, writeAheadLog), _time, NullLogger.Instance, dataSync ?? FileSync.DataSync);

    private static JournalOptions Options(long quotaBytes = 1L << 30, bool sync = true, int deadLetterCapacity = 1000, string? encryptionKeyFile = null, bool? writeAheadLog = null)
    {
        var options = new JournalOptions
        {
            QuotaBytes = quotaBytes,
            SyncOnCommit = sync,
            DeadLetterCapacity = deadLetterCapacity,
            EncryptionKeyFile = encryptionKeyFile,
        };
        if (writeAheadLog is { } wal)
        {
            options.WriteAheadLog = wal;
        }

        return options;
    }

    private static NewEntry Entry(string serial, int second, Lane lane = Lane.Routine)
    {
        var at = Seed.Start.AddSeconds(second);
        return new NewEntry(serial, DeviceKind.Oxygen, lane, at, Encoding.UTF8.GetBytes(Seed.Oxygen(serial, at)));
    }

    private static long EntrySize(NewEntry entry) => entry.Payload.Length + entry.Serial.Length + ReadingJournal.EntryOverheadBytes;
}
