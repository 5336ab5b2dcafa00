using Edge.Agent.Downlink;
using Edge.Agent.Journal;
using Edge.Contracts.Downlink;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Agent.Tests.Downlink;

/// <summary>
/// The gateway's event outbox across a restart. The cloud acknowledges events by id, and the cloud broker keeps an
/// acknowledgement the gateway had not taken when it died (its session is persistent) and delivers it after the
/// restart: an id must therefore never name two events, or that late acknowledgement removes a newer event unsent.
/// Found by the soak (`./bench.sh soak`): a firmware offer in flight through an agent kill -9 left its job "delivered"
/// for good, the devices' "done" reports gone from the outbox.
/// </summary>
public sealed class EventOutboxTests : IDisposable
{
    private const string Serial = "ECG-9700-0003";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_late_ack_from_before_a_restart_does_not_remove_an_event_recorded_after_it()
    {
        var job = Guid.NewGuid();
        IReadOnlyList<long> acknowledgedBeforeRestart;
        await using (var journal = Open())
        using (var store = new DeviceStateStore(journal, TimeProvider.System))
        {
            Assert.True(await store.AcceptFirmwareOfferAsync(new FirmwareOffer(job, Serial, "2.1.0", "https://fw.example/ecg.bin", new string('a', 64), DateTimeOffset.UtcNow), [1]));
            acknowledgedBeforeRestart = [.. store.PendingEvents(10).Select(e => e.Id)];
            Assert.Single(acknowledgedBeforeRestart);
            Assert.Equal(1, await store.RemoveEventsAsync(acknowledgedBeforeRestart));
        }

        await using (var journal = Open())
        using (var store = new DeviceStateStore(journal, TimeProvider.System))
        {
            Assert.True(await store.RecordFirmwareProgressAsync(Serial, new FirmwareProgress(job, FirmwareProgress.Done)));

            // The acknowledgement of the first event, delivered again by the broker after the restart.
            await store.RemoveEventsAsync(acknowledgedBeforeRestart);

            var pending = Assert.Single(store.PendingEvents(10));
            Assert.Equal((GatewayEvent.FirmwareProgressed, FirmwareProgress.Done), (pending.Type, pending.Status));
            Assert.DoesNotContain(pending.Id, acknowledgedBeforeRestart);
        }
    }

    private ReadingJournal Open() => ReadingJournal.Open(_dir.File("journal.db"), "gw-test", new JournalOptions(), TimeProvider.System, NullLogger.Instance);
}
