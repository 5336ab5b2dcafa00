using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Journal.WriteAhead;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Hosting.Metrics;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Tests.Journal;

/// <summary>The journal's write-ahead log: the file's format under torn and stale writes, and the journal's replay.</summary>
public sealed class WriteAheadLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_last_record_torn_at_any_byte_of_its_block_replays_exactly_the_records_before_it()
    {
        var path = _dir.File("torn-wal.db");
        long lastStart;
        long lastEnd;
        byte[] before;
        using (var wal = WriteAheadLog.Open(path, 64 * 1024, FileSync.DataSync, out _))
        {
            wal.Recycle(0);
            wal.Append([Reading(1, 300), Reading(2, 500), WalRecord.Deleted(Lane.Routine, 1, 1)]);
            lastStart = WriteAheadLog.BlockBytes + wal.UsedBytes;
        }

        before = File.ReadAllBytes(path);
        using (var wal = WriteAheadLog.Open(path, 64 * 1024, FileSync.DataSync, out _))
        {
            Assert.Equal(3, wal.Replay().Count); // a reopened log appends after its last record
            wal.Append([Reading(3, 700)]);
            lastEnd = WriteAheadLog.BlockBytes + wal.UsedBytes;
        }

        var after = File.ReadAllBytes(path);
        var blockStart = (lastEnd - 1) / WriteAheadLog.BlockBytes * WriteAheadLog.BlockBytes;
        Assert.True(lastStart >= blockStart, "the last record should start in the block it ends in");

        // A torn write leaves each byte from some offset on as it was before the write: earlier records (rewritten with
        // the same bytes) and the zeros the file was pre-written with.
        var torn = _dir.File("torn-copy.db");
        for (var cut = blockStart; cut < blockStart + WriteAheadLog.BlockBytes; cut++)
        {
            var bytes = (byte[])after.Clone();
            Array.Copy(before, cut, bytes, cut, blockStart + WriteAheadLog.BlockBytes - cut);
            File.WriteAllBytes(torn, bytes);
            var replayed = Replay(torn);
            var expected = cut >= lastEnd ? 4 : 3;
            Assert.True(expected == replayed.Count, $"cut at byte {cut}: {replayed.Count} records replayed, {expected} expected");
            Assert.Equal([1L, 2L, 1L], replayed.Take(3).Select(r => r.First));
        }

        // A bit flipped anywhere in the last record (header or body) ends the log before it.
        for (var offset = lastStart; offset < lastEnd; offset++)
        {
            var bytes = (byte[])after.Clone();
            bytes[offset] ^= (byte)(1 << (int)(offset % 8));
            File.WriteAllBytes(torn, bytes);
            Assert.True(Replay(torn).Count == 3, $"a bit flipped at byte {offset} was not caught");
        }

        var whole = Replay(path);
        Assert.Equal(4, whole.Count);
        Assert.Equal(WalRecordKind.DeleteRange, whole[2].Kind);
        Assert.Equal(Payload(3, 700), whole[3].Entry!.Payload);
    }

    [Fact]
    public void Records_of_an_older_generation_after_the_current_ones_are_not_replayed()
    {
        var path = _dir.File("stale-wal.db");

        // Records of exactly one block each: the new generation's last record ends on a block boundary, so the next
        // bytes replay reads are the old generation's second record, intact, with the LSN replay expects next.
        var blockPayload = WriteAheadLog.BlockBytes - WriteAheadLog.RecordHeaderBytes - (Reading(0, 0).BodyLength);
        using (var wal = WriteAheadLog.Open(path, 64 * 1024, FileSync.DataSync, out _))
        {
            wal.Recycle(0);
            wal.Append([Reading(1, blockPayload), Reading(2, blockPayload), Reading(3, blockPayload)]);
            Assert.Equal(3 * WriteAheadLog.BlockBytes, wal.UsedBytes);
            wal.Recycle(8192);
            wal.Append([Reading(4, blockPayload)]);
        }

        var replayed = Replay(path);
        Assert.Equal([4L], replayed.Select(r => r.First));
        using var reopened = WriteAheadLog.Open(path, 64 * 1024, FileSync.DataSync, out _);
        Assert.Equal(8192, reopened.BaseLogLength);
        Assert.Equal(2, reopened.Generation);
    }

    [Fact]
    public async Task Every_acknowledged_reading_is_readable_once_in_order_after_a_crash_before_LiteDB_held_it()
    {
        var live = new List<JournalEntry>();
        JournalSnapshot snapshot;
        await using (var journal = Open())
        {
            Assert.NotNull(journal.WriteAheadLogPath);
            for (var i = 0; i < 12; i++)
            {
                var lane = i % 4 == 0 ? Lane.Urgent : Lane.Routine;
                Assert.Equal(i + 1, (await journal.AppendAsync(Entry($"OXY-8844-{i % 3:0000}", i, lane))).Sequence);
            }

            // An ack of readings that only the write-ahead log and memory hold, and a published mark.
            Assert.Equal(2, await journal.DeleteRangeAsync(Lane.Routine, 2, 3));
            await journal.MarkPublishedAsync(Lane.Routine, 7);
            live.AddRange(journal.Read(Lane.Urgent, 0, 100));
            live.AddRange(journal.Read(Lane.Routine, 0, 100));
            Assert.Equal(10, live.Count);
            Assert.NotNull(journal.OldestAge(Lane.Urgent));
            snapshot = journal.Snapshot;
            Crash("crashed.db", withWal: true);
            Crash("lost.db", withWal: false);
        }

        // Without its write-ahead log the crashed LiteDB holds none of them: the log alone carried the promise.
        await using (var lost = Open("lost.db", writeAheadLog: false))
        {
            Assert.Empty(lost.Read(Lane.Routine, 0, 100));
            Assert.Equal(0, lost.Snapshot.LastSequence);
        }

        await using var reopened = Open("crashed.db");
        var after = reopened.Read(Lane.Urgent, 0, 100).Concat(reopened.Read(Lane.Routine, 0, 100)).ToList();
        Assert.Equal(live.Select(e => (e.Sequence, e.Serial, e.Lane, e.DeviceTime, e.ReceivedAt)), after.Select(e => (e.Sequence, e.Serial, e.Lane, e.DeviceTime, e.ReceivedAt)));
        Assert.Equal(live.Select(e => Encoding.UTF8.GetString(e.Payload)), after.Select(e => Encoding.UTF8.GetString(e.Payload)));
        Assert.Equal(snapshot.EntriesPerLane, reopened.Snapshot.EntriesPerLane);
        Assert.Equal(snapshot.UsedBytes, reopened.Snapshot.UsedBytes);
        Assert.Equal(7, reopened.PublishedThrough(Lane.Routine));
        Assert.Equal(AppendOutcome.Duplicate, (await reopened.AppendAsync(Entry("OXY-8844-0002", 11))).Outcome);
        Assert.Equal(13, (await reopened.AppendAsync(Entry("OXY-8844-0002", 12))).Sequence);
    }

    [Fact]
    public async Task An_ack_spanning_readings_in_LiteDB_and_readings_in_memory_removes_both_and_survives_a_crash()
    {
        await using (var journal = Open())
        {
            for (var i = 0; i < 5; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            // Past the apply interval: this commit applies 1-6 to LiteDB; 7-9 then wait in memory.
            _time.Advance(TimeSpan.FromSeconds(2));
            for (var i = 5; i < 9; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            Assert.Equal(5, await journal.DeleteRangeAsync(Lane.Routine, 4, 8));
            Assert.Equal([1L, 2L, 3L, 9L], journal.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
            Assert.Equal(4, journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
            Crash("crashed.db", withWal: true);
        }

        await using var reopened = Open("crashed.db");
        Assert.Equal([1L, 2L, 3L, 9L], reopened.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
        Assert.Equal(4, reopened.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        Assert.Equal(10, (await reopened.AppendAsync(Entry("OXY-8844-5521", 9))).Sequence);
    }

    [Fact]
    public async Task Quota_shedding_replays_to_the_same_readings_and_counters()
    {
        var entrySize = Entry("OXY-8844-5521", 0).Payload.Length + "OXY-8844-5521".Length + ReadingJournal.EntryOverheadBytes;
        JournalSnapshot live;
        List<long> routine;
        await using (var journal = Open(quotaBytes: entrySize * 5))
        {
            for (var i = 0; i < 8; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            await journal.AppendAsync(Entry("OXY-8844-5521", 8, Lane.Urgent));
            live = journal.Snapshot;
            routine = journal.Read(Lane.Routine, 0, 100).Select(e => e.Sequence).ToList();
            Crash("crashed.db", withWal: true);
        }

        Assert.Equal(4, live.ShedByReason["quota"]);
        await using var reopened = Open("crashed.db", quotaBytes: entrySize * 5);
        Assert.Equal(routine, reopened.Read(Lane.Routine, 0, 100).Select(e => e.Sequence));
        Assert.Equal(live.EntriesPerLane, reopened.Snapshot.EntriesPerLane);
        Assert.Equal(live.UsedBytes, reopened.Snapshot.UsedBytes);
        Assert.Equal(live.ShedByReason["quota"], reopened.Snapshot.ShedByReason["quota"]);
        Assert.Equal(9, reopened.Snapshot.LastSequence);
    }

    [Fact]
    public async Task A_full_log_applies_to_LiteDB_and_starts_over_without_losing_anything()
    {
        const int count = 400;
        await using (var journal = Open(walBytes: 16 * 1024))
        {
            using var metrics = new MetricsCollector([journal.Meter]);
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(i + 1, (await journal.AppendAsync(Entry($"OXY-8844-{i % 7:0000}", i))).Sequence);
                if (i == count / 2)
                {
                    // Past the apply interval: the next commit applies what waits to LiteDB (no sync) as well.
                    _time.Advance(TimeSpan.FromSeconds(2));
                }
            }

            Assert.True(journal.WriteAheadLogFull > 0, "400 readings of ~250 bytes never filled a 16 KiB log");
            Assert.Contains($"edge_journal_wal_full_total {journal.WriteAheadLogFull}", metrics.Render().Split('\n'));
            Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), journal.Read(Lane.Routine, 0, 1000).Select(e => e.Sequence));
            Crash("crashed.db", withWal: true);
        }

        foreach (var name in new[] { "crashed.db", "journal.db" })
        {
            await using var reopened = Open(name, walBytes: 16 * 1024);
            Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), reopened.Read(Lane.Routine, 0, 1000).Select(e => e.Sequence));
            Assert.Equal(count, reopened.Snapshot.EntriesPerLane[(int)Lane.Routine]);
            Assert.Equal(count + 1, (await reopened.AppendAsync(Entry("OXY-8844-0000", count + 1))).Sequence);
        }
    }

    [Fact]
    public async Task Readings_left_in_memory_when_traffic_stops_are_applied_to_LiteDB_after_the_apply_interval()
    {
        await using (var journal = Open())
        {
            for (var i = 0; i < 3; i++)
            {
                await journal.AppendAsync(Entry("OXY-8844-5521", i));
            }

            Crash("waiting.db", withWal: false);

            // No group follows: only the writer's idle timer can bring them to LiteDB.
            _time.Advance(ReadingJournal.ApplyInterval);
            await Eventually.TrueAsync(() => journal.IdleApplies > 0, TimeSpan.FromSeconds(30), "the writer to apply the readings waiting in memory");
            Crash("applied.db", withWal: false);
            Assert.Equal(3, journal.Read(Lane.Routine, 0, 10).Count);
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", 3))).Outcome);
        }

        // Without the write-ahead log, what LiteDB's files held before and after the interval.
        await using (var waiting = Open("waiting.db", writeAheadLog: false))
        {
            Assert.Empty(waiting.Read(Lane.Routine, 0, 10));
        }

        await using var applied = Open("applied.db", writeAheadLog: false);
        Assert.Equal([1L, 2L, 3L], applied.Read(Lane.Routine, 0, 10).Select(e => e.Sequence));
        Assert.Equal(3, applied.Snapshot.EntriesPerLane[(int)Lane.Routine]);
    }

    [Fact]
    public async Task A_dead_letter_is_synced_to_LiteDB_before_its_group_completes()
    {
        var synced = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Sync(SafeFileHandle handle)
        {
            synced.Enqueue(new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget ?? "");
            FileSync.DataSync(handle);
        }

        await using var journal = Open(dataSync: Sync);
        await journal.AppendAsync(Entry("OXY-8844-5521", 0));
        Assert.DoesNotContain(ReadingJournal.LogPathFor(_dir.File("journal.db")), synced); // a reading alone: only the write-ahead log
        synced.Clear();

        journal.AddDeadLetter(new DeadLetter(Seed.Start, "OXY-8844-5521", "devices/OXY-8844-5521/telemetry", "PayloadFormatInvalid", "bad", new byte[10]));
        await journal.AppendAsync(Entry("OXY-8844-5521", 1)); // dead letters ride on the next group commit

        Assert.Single(journal.ListDeadLetters(10));
        Assert.Contains(ReadingJournal.LogPathFor(_dir.File("journal.db")), synced);
    }

    [Fact]
    public async Task A_clean_close_leaves_LiteDB_holding_everything_and_both_logs_empty()
    {
        var path = _dir.File("journal.db");
        await using (var journal = Open())
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", i))).Outcome);
            }
        }

        Assert.Equal(0, new FileInfo(ReadingJournal.LogPathFor(path)).Length);
        Assert.Empty(Replay(ReadingJournal.WalPathFor(path)));
        await using var reopened = Open(writeAheadLog: false);
        Assert.Equal(300, reopened.Read(Lane.Routine, 0, 1000).Count);
    }

    [Fact]
    public async Task A_failed_sync_of_LiteDB_on_a_full_log_is_not_followed_by_the_log_starting_over()
    {
        var logPath = ReadingJournal.LogPathFor(_dir.File("journal.db"));
        var failLiteDb = false;
        void Sync(SafeFileHandle handle)
        {
            if (failLiteDb && new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget == logPath)
            {
                throw new IOException("fdatasync failed (errno 5).");
            }

            FileSync.DataSync(handle);
        }

        var acknowledged = new List<long>();
        await using (var journal = Open(walBytes: 16 * 1024, dataSync: Sync))
        {
            failLiteDb = true;
            for (var i = 0; i < 400 && !journal.Faulted.IsCompleted; i++)
            {
                try
                {
                    acknowledged.Add((await journal.AppendAsync(Entry($"OXY-8844-{i % 7:0000}", i))).Sequence);
                }
                catch (IOException)
                {
                    // The commit that found the log full, and LiteDB's sync failing under it.
                }
            }

            await Assert.ThrowsAsync<IOException>(() => journal.Faulted);
            Assert.Equal(1, journal.WriteAheadLogFull);
            Crash("crashed.db", withWal: true);
        }

        // The log still holds the acknowledged readings LiteDB's failed sync was to make durable.
        Assert.NotEmpty(Replay(ReadingJournal.WalPathFor(_dir.File("crashed.db"))));
        await using var reopened = Open("crashed.db", walBytes: 16 * 1024);
        Assert.Equal(acknowledged, reopened.Read(Lane.Routine, 0, 1000).Select(e => e.Sequence));
    }

    [Fact]
    public async Task A_failed_fdatasync_of_the_log_fails_the_append_and_the_journal()
    {
        var sync = new FailingSync();
        await using (var journal = Open(dataSync: sync.Sync))
        {
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry("OXY-8844-5521", 0))).Outcome);
            sync.FailNext();
            sync.Release();
            await Assert.ThrowsAsync<IOException>(async () => await journal.AppendAsync(Entry("OXY-8844-5521", 1)));
            await Assert.ThrowsAsync<IOException>(() => journal.Faulted);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await journal.AppendAsync(Entry("OXY-8844-5521", 2)));
        }

        await using var restarted = Open();
        Assert.Equal(Seed.Start, restarted.Read(Lane.Routine, 0, 100)[0].DeviceTime);
        Assert.Equal(AppendOutcome.Duplicate, (await restarted.AppendAsync(Entry("OXY-8844-5521", 0))).Outcome);
    }

    [Fact]
    public async Task Device_state_changes_are_durable_in_LiteDB_when_they_complete()
    {
        await using (var journal = Open())
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", 0));
            await journal.CommitStateAsync(db =>
            {
                db.Upsert("wal_state_test", new LiteDB.BsonDocument { ["_id"] = "x", ["v"] = 1 });
                return true;
            });
            await journal.AppendAsync(Entry("OXY-8844-5521", 1));
            Crash("crashed.db", withWal: true);
        }

        await using var reopened = Open("crashed.db");
        Assert.Equal(1, reopened.ReadState(db => db.Find("wal_state_test", "x")!["v"].AsInt32));
        Assert.Equal([1L, 2L], reopened.Read(Lane.Routine, 0, 10).Select(e => e.Sequence));
    }

    [Fact]
    public async Task An_encrypted_journal_keeps_no_write_ahead_log()
    {
        var key = _dir.File("journal.key");
        File.WriteAllText(key, "0123456789abcdef0123456789abcdef");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var journal = ReadingJournal.Open(_dir.File("journal.db"), "gw-test", Options(encryptionKeyFile: key), _time, NullLogger.Instance, FileSync.DataSync))
        {
            Assert.True(journal.Encrypted);
            Assert.Null(journal.WriteAheadLogPath);
            await journal.AppendAsync(Entry("OXY-8844-5521", 0));
        }

        Assert.False(File.Exists(ReadingJournal.WalPathFor(_dir.File("journal.db"))));
    }

    [Fact]
    public async Task A_log_left_by_a_run_that_used_it_is_replayed_when_the_setting_is_off()
    {
        await using (var journal = Open())
        {
            await journal.AppendAsync(Entry("OXY-8844-5521", 0));
            Crash("crashed.db", withWal: true);
        }

        await using var reopened = Open("crashed.db", writeAheadLog: false);
        Assert.Null(reopened.WriteAheadLogPath);
        Assert.Single(reopened.Read(Lane.Routine, 0, 10));
        Assert.False(File.Exists(ReadingJournal.WalPathFor(_dir.File("crashed.db"))));
    }

    private static List<WalRecord> Replay(string path)
    {
        using var wal = WriteAheadLog.Open(path, 64 * 1024, FileSync.DataSync, out _);
        return wal.Replay();
    }

    private static WalRecord Reading(long sequence, int payloadBytes) =>
        WalRecord.Appended(Lane.Routine, new SegmentEntry(sequence, "OXY-8844-5521", sequence * 10, sequence * 20, Payload(sequence, payloadBytes)));

    private static byte[] Payload(long sequence, int bytes) => Enumerable.Range(0, bytes).Select(i => (byte)(i + sequence)).ToArray();

    /// <summary>What a kill -9 leaves: the open files copied as they are (cp ignores the journal's advisory lock).</summary>
    private void Crash(string name, bool withWal)
    {
        var from = _dir.File("journal.db");
        var to = _dir.File(name);
        Copy(from, to);
        Copy(ReadingJournal.LogPathFor(from), ReadingJournal.LogPathFor(to));
        if (withWal)
        {
            Copy(ReadingJournal.WalPathFor(from), ReadingJournal.WalPathFor(to));
        }

        static void Copy(string from, string to)
        {
            using var cp = System.Diagnostics.Process.Start("cp", [from, to]);
            cp.WaitForExit();
            Assert.Equal(0, cp.ExitCode);
        }
    }

    private ReadingJournal Open(string name = "journal.db", long quotaBytes = 1L << 30, bool writeAheadLog = true, long walBytes = 1 << 20, Action<SafeFileHandle>? dataSync = null) =>
        ReadingJournal.Open(_dir.File(name), "gw-test", Options(quotaBytes, writeAheadLog, walBytes), _time, NullLogger.Instance, dataSync ?? FileSync.DataSync);

    private static JournalOptions Options(long quotaBytes = 1L << 30, bool writeAheadLog = true, long walBytes = 1 << 20, string? encryptionKeyFile = null) => new()
    {
        QuotaBytes = quotaBytes,
        WriteAheadLog = writeAheadLog,
        WriteAheadLogBytes = walBytes,
        EncryptionKeyFile = encryptionKeyFile,
    };

    private static NewEntry Entry(string serial, int second, Lane lane = Lane.Routine)
    {
        var at = Seed.Start.AddSeconds(second);
        return new NewEntry(serial, DeviceKind.Oxygen, lane, at, Encoding.UTF8.GetBytes(Seed.Oxygen(serial, at)));
    }
}
