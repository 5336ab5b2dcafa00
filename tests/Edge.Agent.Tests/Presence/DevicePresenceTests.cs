using Edge.Agent.Downlink;
using Edge.Agent.Journal;
using Edge.Agent.Presence;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Downlink;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Presence;

/// <summary>
/// Presence changes as the cloud receives them (the event outbox in the journal database): debounced, dated when they
/// happened, one pending per device, and judged again after the agent's restart. Connection events are fed as the
/// broker raises them; the clock is fake.
/// </summary>
public sealed class DevicePresenceTests : IDisposable
{
    private const string Oxygen = "OXY-8844-5521";
    private const string Cpap = "CPAP-2301-9912";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_device_back_within_the_debounce_costs_no_event_and_one_away_longer_is_offline_from_when_it_left()
    {
        await using var journal = Open();
        using var store = new DeviceStateStore(journal, _time);
        using var presence = Presence(store, debounceSeconds: 10);
        presence.Restore();

        presence.Connected(Oxygen);
        var online = Assert.Single(await PendingAsync(journal, store));
        Assert.Equal((GatewayEvent.DevicePresence, GatewayEvent.Online, PresenceReasons.Connected), (online.Type, online.Status, online.Reason));
        await store.RemoveEventsAsync([online.Id]); // the cloud acknowledged it

        // A flapping link: away 5 s, back; away 9 s, back. Nothing for the cloud.
        presence.Disconnected(Oxygen, clean: false);
        _time.Advance(TimeSpan.FromSeconds(5));
        presence.Connected(Oxygen);
        presence.Disconnected(Oxygen, clean: false);
        _time.Advance(TimeSpan.FromSeconds(9));
        presence.Connected(Oxygen);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(await PendingAsync(journal, store));

        // Gone: reported once the debounce has passed, dated when it left.
        var left = _time.GetUtcNow();
        presence.Disconnected(Oxygen, clean: true);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(await PendingAsync(journal, store));
        _time.Advance(TimeSpan.FromSeconds(1));
        var offline = Assert.Single(await PendingAsync(journal, store));
        Assert.Equal((GatewayEvent.Offline, PresenceReasons.Disconnected, left), (offline.Status, offline.Reason, offline.At));
        Assert.Equal(GatewayEvent.Offline, presence.Reported(Oxygen));
    }

    [Fact]
    public async Task After_a_restart_a_device_reported_online_that_does_not_come_back_is_reported_offline()
    {
        await using var journal = Open();
        using var store = new DeviceStateStore(journal, _time);
        using (var before = Presence(store, debounceSeconds: 0))
        {
            before.Restore();
            before.Connected(Oxygen);
            before.Connected(Cpap);
            await store.RemoveEventsAsync([.. (await PendingAsync(journal, store)).Select(e => e.Id)]);

            // The agent stops: every device disconnects, which says nothing about the devices.
            before.Stop();
            before.Disconnected(Oxygen, clean: false);
            before.Disconnected(Cpap, clean: false);
            Assert.Empty(await PendingAsync(journal, store));
        }

        // The next start: the CPAP reconnects in time, the oxygen concentrator does not.
        using var after = Presence(store, debounceSeconds: 10);
        var restartedAt = _time.GetUtcNow();
        after.Restore();
        _time.Advance(TimeSpan.FromSeconds(3));
        after.Connected(Cpap);
        _time.Advance(TimeSpan.FromSeconds(10));

        var offline = Assert.Single(await PendingAsync(journal, store));
        Assert.Equal((Oxygen, GatewayEvent.Offline, PresenceReasons.AgentRestarted, restartedAt), (offline.Serial, offline.Status, offline.Reason, offline.At));
        Assert.Equal(GatewayEvent.Online, after.Reported(Cpap));
    }

    [Fact]
    public async Task While_the_cloud_is_unreachable_a_device_keeps_one_pending_presence_event_its_newest()
    {
        await using var journal = Open();
        using var store = new DeviceStateStore(journal, _time);
        using var presence = Presence(store, debounceSeconds: 0);
        presence.Restore();
        for (var i = 0; i < 50; i++)
        {
            presence.Connected(Oxygen);
            _time.Advance(TimeSpan.FromSeconds(30));
            presence.Disconnected(Oxygen, clean: false);
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        presence.Connected(Cpap);
        var pending = await PendingAsync(journal, store);
        Assert.Equal([(Oxygen, GatewayEvent.Offline), (Cpap, GatewayEvent.Online)], pending.Select(e => (e.Serial, e.Status!)));
    }

    private DevicePresence Presence(DeviceStateStore store, int debounceSeconds) =>
        new(store, Options.Create(new PresenceOptions { DebounceSeconds = debounceSeconds }), _time, NullLogger<DevicePresence>.Instance);

    // The journal commits in call order: once a later change is committed, every presence change before it is too.
    private static async Task<IReadOnlyList<GatewayEvent>> PendingAsync(ReadingJournal journal, DeviceStateStore store)
    {
        await journal.CommitStateAsync(_ => 0);
        return store.PendingEvents(GatewayEventBatch.MaxEvents);
    }

    private ReadingJournal Open() =>
        ReadingJournal.Open(_dir.File("journal.db"), "gw-test", new JournalOptions(), _time, NullLogger.Instance);
}
