using System.Text;
using Edge.Contracts.Identity;
using Edge.Storage.Ingest;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Ingest;

[Collection(PostgresServer.Collection)]
public sealed class IngestLedgerTests(PostgresServer server) : PostgresTest(server)
{
    private IngestLedger _ledger = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _ledger = new IngestLedger(DataSource, 30, Logger<IngestLedger>());
        await _ledger.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_dead_letter_keeps_the_payload_bytes_and_the_reason()
    {
        var payload = new byte[] { 0x1f, 0x8b, 0x00, 0xff, 0x42 };
        var letter = new DeadLetter(Readings.January15, "gw-0007", "edge/v1/gw-0007/telemetry", "not a gzip stream", payload);

        var first = await _ledger.RecordDeadLetterAsync(letter, CancellationToken.None);
        var second = await _ledger.RecordDeadLetterAsync(letter, CancellationToken.None);

        Assert.True(second > first);
        Assert.Equal(payload, await ScalarAsync<byte[]>($"SELECT payload FROM ingest_dead_letters WHERE id = {first}"));
        Assert.Equal("gw-0007|edge/v1/gw-0007/telemetry|not a gzip stream",
            await ScalarAsync<string>($"SELECT concat_ws('|', gateway_id, topic, reason) FROM ingest_dead_letters WHERE id = {first}"));
        Assert.True(await ScalarAsync<bool>($"SELECT received_at = '2026-01-15T12:00:00Z' FROM ingest_dead_letters WHERE id = {first}"));
    }

    [Fact]
    public async Task A_rejected_reading_is_recorded_once_however_often_its_batch_is_re_sent()
    {
        var rejected = new List<RejectedReading>
        {
            Rejected(1, "metrics.flow_rate_lpm: must be between 0 and 15 (was 20.5)"),
            Rejected(2, "timestamp: year must be between 2000 and 2199 (was 1970)"),
        };

        Assert.Equal(2, await _ledger.RecordRejectedAsync(rejected, CancellationToken.None));
        Assert.Equal(0, await _ledger.RecordRejectedAsync(rejected, CancellationToken.None));
        Assert.Equal(1, await _ledger.RecordRejectedAsync([rejected[0], Rejected(3, "serial: must match")], CancellationToken.None));

        Assert.Equal(["1", "2", "3"], await ColumnAsync("SELECT seq FROM rejected_readings ORDER BY seq"));
        Assert.Equal("{\"flow\": 20.5}", Encoding.UTF8.GetString(await ScalarAsync<byte[]>("SELECT raw FROM rejected_readings WHERE seq = 1")));
    }

    [Fact]
    public async Task Retention_deletes_entries_received_before_the_cutoff()
    {
        await _ledger.RecordDeadLetterAsync(new DeadLetter(Readings.January15.AddDays(-31), "gw", "t", "old", new byte[] { 1 }), CancellationToken.None);
        await _ledger.RecordDeadLetterAsync(new DeadLetter(Readings.January15.AddDays(-1), "gw", "t", "new", new byte[] { 1 }), CancellationToken.None);
        await _ledger.RecordRejectedAsync([Rejected(1, "old", Readings.January15.AddDays(-40)), Rejected(2, "new", Readings.January15)], CancellationToken.None);

        Assert.Equal(2, await _ledger.ApplyRetentionAsync(Readings.January15, CancellationToken.None));

        Assert.Equal(["new"], await ColumnAsync("SELECT reason FROM ingest_dead_letters"));
        Assert.Equal(["new"], await ColumnAsync("SELECT reason FROM rejected_readings"));
    }

    [Fact]
    public async Task A_requested_row_is_tried_by_one_caller_at_a_time_kept_with_its_new_reason_when_it_fails_and_deleted_when_stored()
    {
        var id = await _ledger.RecordDeadLetterAsync(new DeadLetter(Readings.January15, "gw-0007", "edge/v1/gw-0007/telemetry", "first", new byte[] { 1 }), CancellationToken.None);
        Assert.False(await _ledger.RequeueNextDeadLetterAsync((_, _) => Task.FromResult<string?>(null), Readings.January15, CancellationToken.None)); // not requested
        Assert.Equal(RequeueState.Pending, (await _ledger.RequestDeadLetterRequeueAsync(id, Readings.January15, CancellationToken.None))!.State);

        // While one caller holds the row, a second (another replica) finds nothing to do: it never tries the same row.
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource<string?>();
        var first = _ledger.RequeueNextDeadLetterAsync((_, _) => { holding.SetResult(); return release.Task; }, Readings.January15.AddMinutes(1), CancellationToken.None);
        await holding.Task;
        var secondTried = 0;
        Assert.False(await _ledger.RequeueNextDeadLetterAsync((_, _) => { secondTried++; return Task.FromResult<string?>(null); }, Readings.January15, CancellationToken.None));
        release.SetResult("still refused");
        Assert.True(await first);

        Assert.Equal(0, secondTried);
        var failed = (await _ledger.GetDeadLetterAsync(id, CancellationToken.None))!;
        Assert.Equal(("still refused", RequeueState.Failed, "failed again: still refused"), (failed.Reason, failed.Requeue.State, failed.Requeue.Outcome));
        Assert.Equal(Readings.January15.AddMinutes(1), failed.Requeue.AttemptedAt);

        // Requested again after another fix: pending, then stored and gone.
        await _ledger.RequestDeadLetterRequeueAsync(id, Readings.January15.AddMinutes(2), CancellationToken.None);
        Assert.Null((await _ledger.GetDeadLetterAsync(id, CancellationToken.None))!.Requeue.Outcome);
        Assert.True(await _ledger.RequeueNextDeadLetterAsync((_, _) => Task.FromResult<string?>(null), Readings.January15, CancellationToken.None));
        Assert.Null(await _ledger.GetDeadLetterAsync(id, CancellationToken.None));
        Assert.Null(await _ledger.RequestDeadLetterRequeueAsync(id, Readings.January15, CancellationToken.None));
    }

    [Fact]
    public async Task An_attempt_that_throws_leaves_the_rejected_reading_pending()
    {
        var reading = Rejected(1, "refused");
        await _ledger.RecordRejectedAsync([reading], CancellationToken.None);
        await _ledger.RequestRejectedRequeueAsync(reading.Id, Readings.January15, CancellationToken.None);

        await Assert.ThrowsAsync<TimeoutException>(() => _ledger.RequeueNextRejectedAsync((_, _) => throw new TimeoutException("store away"), Readings.January15, CancellationToken.None));

        Assert.Equal(RequeueState.Pending, (await _ledger.GetRejectedAsync(reading.Id, CancellationToken.None))!.Requeue.State);
        Assert.True(await _ledger.RequeueNextRejectedAsync((row, _) => Task.FromResult<string?>(row.Raw!.Length > 0 ? null : "empty"), Readings.January15, CancellationToken.None));
        Assert.Null(await _ledger.GetRejectedAsync(reading.Id, CancellationToken.None));
    }

    private static RejectedReading Rejected(long sequence, string reason, DateTimeOffset? receivedAt = null) =>
        new(ReadingId.From("gw-0007", 3, sequence), "gw-0007", 3, sequence, "OXY-8844-5521", reason,
            Encoding.UTF8.GetBytes("{\"flow\": 20.5}"), receivedAt ?? Readings.January15);
}
