using System.Text.Json;
using Edge.Agent.Journal;
using Edge.Contracts.Downlink;
using LiteDB;
using JsonSerializer = System.Text.Json.JsonSerializer;

namespace Edge.Agent.Downlink;

/// <summary>
/// What the gateway knows about its devices' desired state, in the journal database (same transactions and disk
/// syncs as readings): the desired config per device, the firmware offer per device, and the outbox of state-change
/// events waiting for the cloud's acknowledgement (with the last event id given, so an id is never reused). A few documents per device, so they are not counted against the
/// journal quota and are never shed.
/// </summary>
internal sealed class DeviceStateStore(ReadingJournal journal, TimeProvider time) : IDisposable
{
    private const string Configs = "desired_configs";
    private const string Offers = "firmware_offers";
    private const string Outbox = "event_outbox";
    private const string OutboxIds = "event_outbox_ids";
    private const string LastId = "last";
    private const string Presence = "device_presence";

    private readonly SemaphoreSlim _eventAdded = new(0);

    /// <summary>Takes a config the cloud sent. Only a newer version replaces the stored one (the cloud also wins a tie with an on-site config).</summary>
    public Task<bool> AcceptCloudConfigAsync(string serial, int version, byte[] message) =>
        CommitAsync(db =>
        {
            var stored = db.Find(Configs, serial);
            if (stored is not null && (stored["v"].AsInt32 > version || (stored["v"].AsInt32 == version && stored["src"].AsString == ConfigSources.Cloud)))
            {
                return false;
            }

            db.Upsert(Configs, ConfigDocument(serial, version, message, ConfigSources.Cloud, baseVersion: null));
            AddEvent(db, new GatewayEvent(0, GatewayEvent.ConfigDelivered, serial, time.GetUtcNow(), Version: version));
            return true;
        });

    /// <summary>
    /// Takes a config a technician pushed on site. It gets the next version after the stored one and is reported to
    /// the cloud, which keeps it only if nobody changed the config there meanwhile (docs/config-push.md).
    /// </summary>
    public Task<DesiredConfig> AcceptOnSiteConfigAsync(string serial, Func<int, byte[]> messageForVersion, string actor) =>
        CommitAsync(db =>
        {
            var baseVersion = db.Find(Configs, serial)?["v"].AsInt32 ?? 0;
            var version = baseVersion + 1;
            var message = messageForVersion(version);
            var config = ConfigDocument(serial, version, message, ConfigSources.OnSite, baseVersion);
            db.Upsert(Configs, config);
            using var parsed = JsonDocument.Parse(message);
            AddEvent(db, new GatewayEvent(0, GatewayEvent.ConfigOnSite, serial, time.GetUtcNow(), Version: version, BaseVersion: baseVersion,
                Config: parsed.RootElement.Clone(), Actor: actor));
            return ToConfig(config);
        });

    /// <summary>Records a device's config ack; false when it names a version that is no longer the desired one.</summary>
    public Task<bool> RecordConfigAckAsync(string serial, ConfigAck ack) =>
        CommitAsync(db =>
        {
            var stored = db.Find(Configs, serial);
            if (stored is null || stored["v"].AsInt32 != ack.Version)
            {
                return false;
            }

            var now = time.GetUtcNow();
            stored["ds"] = ack.Status;
            stored["dr"] = ack.Reason;
            stored["da"] = now.UtcTicks;
            db.Upsert(Configs, stored);
            var type = ack.Status == ConfigAck.Applied ? GatewayEvent.ConfigApplied : GatewayEvent.ConfigRejected;
            AddEvent(db, new GatewayEvent(0, type, serial, now, Version: ack.Version, Reason: ack.Reason));
            return true;
        });

    /// <summary>Takes a firmware offer; false when the device already has this job's offer.</summary>
    public Task<bool> AcceptFirmwareOfferAsync(FirmwareOffer offer, byte[] message) =>
        CommitAsync(db =>
        {
            var stored = db.Find(Offers, offer.Serial);
            if (stored is not null && stored["job"].AsGuid == offer.JobId)
            {
                return false;
            }

            db.Upsert(Offers, new BsonDocument
            {
                ["_id"] = offer.Serial,
                ["job"] = offer.JobId,
                ["m"] = message,
                ["st"] = "delivered",
                ["at"] = time.GetUtcNow().UtcTicks,
            });
            AddEvent(db, new GatewayEvent(0, GatewayEvent.FirmwareDelivered, offer.Serial, time.GetUtcNow(), JobId: offer.JobId));
            return true;
        });

    /// <summary>
    /// Records a device's firmware progress; false when it names a job that is not the device's current offer.
    /// Progress of one status replaces an unsent event of the same status (percent updates do not pile up offline).
    /// </summary>
    public Task<bool> RecordFirmwareProgressAsync(string serial, FirmwareProgress progress) =>
        CommitAsync(db =>
        {
            var stored = db.Find(Offers, serial);
            if (stored is null || stored["job"].AsGuid != progress.JobId)
            {
                return false;
            }

            var now = time.GetUtcNow();
            stored["st"] = progress.Status;
            stored["at"] = now.UtcTicks;
            db.Upsert(Offers, stored);
            // Parameters, not Query.EQ: LiteDB 5 writes Query.EQ's value into the expression text and compiles every new
            // text afresh (a LINQ expression compiled and JIT-compiled per distinct value).
            db.DeleteWhere(Outbox, "type = @0 AND serial = @1 AND job = @2 AND status = @3",
                GatewayEvent.FirmwareProgressed, serial, progress.JobId, progress.Status);
            AddEvent(db, new GatewayEvent(0, GatewayEvent.FirmwareProgressed, serial, now, JobId: progress.JobId, Status: progress.Status,
                Reason: progress.Reason, Percent: progress.Percent));
            return true;
        });

    /// <summary>
    /// Records a device's presence change (what the cloud is told from now on) and queues its event. An unsent presence
    /// event of the same device is replaced: the cloud needs the newest state, and a device flapping while the
    /// gateway is offline adds one event, not one per flap.
    /// </summary>
    public Task RecordPresenceAsync(string serial, string status, DateTimeOffset at, string reason) =>
        CommitAsync(db =>
        {
            db.Upsert(Presence, new BsonDocument { ["_id"] = serial, ["s"] = status, ["at"] = at.UtcTicks });
            db.DeleteWhere(Outbox, "type = @0 AND serial = @1", GatewayEvent.DevicePresence, serial);
            AddEvent(db, new GatewayEvent(0, GatewayEvent.DevicePresence, serial, at, Status: status, Reason: reason));
            return true;
        });

    /// <summary>Each device's last reported presence (online or offline).</summary>
    public IReadOnlyList<(string Serial, string Status)> ReportedPresence() =>
        journal.ReadState(db => db.All(Presence).Select(d => (d["_id"].AsString, d["s"].AsString)).ToList());

    public DesiredConfig? GetConfig(string serial) =>
        journal.ReadState(db => db.Find(Configs, serial) is { } doc ? ToConfig(doc) : null);

    public IReadOnlyList<DesiredConfig> AllConfigs() =>
        journal.ReadState(db => db.All(Configs).Select(ToConfig).ToList());

    /// <summary>Every device's current firmware offer message (to re-publish retained after a restart).</summary>
    public IReadOnlyList<(string Serial, byte[] Message)> AllOffers() =>
        journal.ReadState(db => db.All(Offers).Select(d => (d["_id"].AsString, d["m"].AsBinary)).ToList());

    /// <summary>The oldest unacknowledged events, in id order.</summary>
    public IReadOnlyList<GatewayEvent> PendingEvents(int max) =>
        journal.ReadState(db => db.First(Outbox, max)
            .Select(d => JsonSerializer.Deserialize(d["e"].AsBinary, GatewayEventsJsonContext.Default.GatewayEvent)! with { Id = d["_id"].AsInt64 })
            .ToList());

    public int PendingEventCount => journal.ReadState(db => db.Count(Outbox));

    /// <summary>Forgets events the cloud acknowledged.</summary>
    public Task<int> RemoveEventsAsync(IReadOnlyList<long> ids) =>
        CommitAsync(db => ids.Count(id => db.Delete(Outbox, id)));

    /// <summary>Waits until an event is added or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForEventAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _ = await _eventAdded.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _eventAdded.Dispose();

    private async Task<T> CommitAsync<T>(Func<StateDocuments, T> change)
    {
        var result = await journal.CommitStateAsync(change);
        if (_eventAdded.CurrentCount == 0)
        {
            _eventAdded.Release();
        }

        return result;
    }

    /// <summary>
    /// Queues an event under an id never given before, restarts included. The cloud acknowledges events by id, and an
    /// acknowledgement the agent had not taken when it died is delivered after the restart (the broker keeps it in the
    /// gateway's persistent session). LiteDB's own auto id starts again after the largest id present, which is none
    /// when the outbox was empty, so a late acknowledgement would remove a newer event before it was ever sent. The last
    /// id given is therefore kept in the same transaction as the event.
    /// </summary>
    private static void AddEvent(StateDocuments db, GatewayEvent e)
    {
        // An outbox from before the kept id (an upgraded agent) continues after its largest pending id.
        var last = db.Find(OutboxIds, LastId) is { } kept
            ? kept["v"].AsInt64
            : db.Last(Outbox) is { } newest ? newest["_id"].AsInt64 : 0;
        var id = last + 1;
        db.Upsert(OutboxIds, new BsonDocument { ["_id"] = LastId, ["v"] = id });
        db.Insert(Outbox, new BsonDocument
        {
            ["_id"] = id,
            // Indexed-looking fields only for coalescing firmware progress; the event itself is the JSON.
            ["type"] = e.Type,
            ["serial"] = e.Serial,
            ["job"] = e.JobId is { } job ? new BsonValue(job) : BsonValue.Null,
            ["status"] = e.Status,
            ["e"] = JsonSerializer.SerializeToUtf8Bytes(e, GatewayEventsJsonContext.Default.GatewayEvent),
        });
    }

    private static BsonDocument ConfigDocument(string serial, int version, byte[] message, string source, int? baseVersion) => new()
    {
        ["_id"] = serial,
        ["v"] = version,
        ["m"] = message,
        ["src"] = source,
        ["base"] = baseVersion is { } b ? new BsonValue(b) : BsonValue.Null,
        ["ds"] = "pending",
        ["dr"] = BsonValue.Null,
        ["da"] = BsonValue.Null,
    };

    private static DesiredConfig ToConfig(BsonDocument d) => new(
        d["_id"].AsString,
        d["v"].AsInt32,
        d["m"].AsBinary,
        d["src"].AsString,
        d["ds"].AsString,
        d["dr"].IsNull ? null : d["dr"].AsString,
        d["da"].IsNull ? null : new DateTimeOffset(d["da"].AsInt64, TimeSpan.Zero));
}

/// <summary>
/// A device's desired config as the gateway holds it (the message published to the device, with its version and
/// source, cloud or on-site) and what the device answered: DeviceStatus is pending (no answer yet), applied or rejected.
/// </summary>
internal sealed record DesiredConfig(string Serial, int Version, byte[] Message, string Source, string DeviceStatus, string? DeviceReason, DateTimeOffset? DeviceAnsweredAt);

internal static class ConfigSources
{
    public const string Cloud = "cloud";
    public const string OnSite = "on-site";
}
