using Edge.Storage.Alerts;
using Edge.Storage.Live;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Alerts;

/// <summary>
/// The <c>alerts</c> table announces every alert raised and every state change on <c>edge_alerts_changed</c>, with the id
/// and the clinic only, at commit: a rolled-back step and a repeated one announce nothing.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class AlertChangeNoticeTests(PostgresServer server) : AlertTest(server)
{
    [Fact]
    public async Task Raising_acknowledging_and_resolving_announce_the_id_and_clinic_once_each_and_only_at_commit()
    {
        await ClinicAsync("clinic-a");
        await DeviceAsync("ECG-7711-0001", "clinic-a");
        var notices = new List<string>();
        await using var listener = await DataSource.OpenConnectionAsync();
        listener.Notification += (_, notice) => notices.Add(notice.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {AlertChangeNotice.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await Recorder.RecordAsync([Readings.Ecg(1, Readings.January15, arrhythmia: "afib", serial: "ECG-7711-0001")], CancellationToken.None);
        var raised = Assert.Single(await WaitForAsync(listener, notices, 1));
        var change = AlertChangeNotice.Decode(raised);
        Assert.NotNull(change);
        Assert.Equal("clinic-a", change.ClinicId);
        Assert.Equal($"{change.AlertId} clinic-a", raised);

        var lifecycle = new AlertLifecycle(DataSource, Clock);
        // A step whose transaction fails after the update (its audit row could not be written) is never announced.
        await Assert.ThrowsAsync<InvalidOperationException>(() => lifecycle.AcknowledgeAsync(change.AlertId, null, "nurse", "seen",
            (_, _, _, _, _) => throw new InvalidOperationException("the audit log refused"), CancellationToken.None));
        Assert.Equal(AlertTransitionOutcome.Changed, (await lifecycle.AcknowledgeAsync(change.AlertId, null, "nurse", "seen", null, CancellationToken.None)).Outcome);
        // Repeating it changes nothing, so announces nothing.
        Assert.Equal(AlertTransitionOutcome.Already, (await lifecycle.AcknowledgeAsync(change.AlertId, null, "nurse", "again", null, CancellationToken.None)).Outcome);
        Assert.Equal(AlertTransitionOutcome.Changed, (await lifecycle.ResolveAsync(change.AlertId, null, "nurse", "done", null, CancellationToken.None)).Outcome);

        Assert.Equal([raised, raised, raised], await WaitForAsync(listener, notices, 3));
        // Nothing further arrives: the rolled-back and the repeated steps sent nothing.
        Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(3, notices.Count);
    }

    [Fact]
    public void A_payload_that_is_not_ours_is_ignored()
    {
        Assert.Null(AlertChangeNotice.Decode("not-a-guid clinic-a"));
        Assert.Null(AlertChangeNotice.Decode(""));
        var id = Guid.NewGuid();
        Assert.Equal(new AlertChange(id, null), AlertChangeNotice.Decode($"{id} "));
    }

    /// <summary>Reads notifications until <paramref name="count"/> arrived, or fails after 15 s.</summary>
    private static async Task<List<string>> WaitForAsync(NpgsqlConnection listener, List<string> notices, int count)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (notices.Count < count)
        {
            await listener.WaitAsync(deadline.Token);
        }
        return [.. notices];
    }
}
