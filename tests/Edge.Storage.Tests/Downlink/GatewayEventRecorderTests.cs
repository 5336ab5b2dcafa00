using System.Text.Json;
using Edge.Contracts.Downlink;
using Edge.Storage.Downlink;
using Edge.Storage.Registry;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Downlink;

/// <summary>
/// The registry side of config push and firmware jobs: versions and supersession, events applied only forwards and
/// idempotently, the on-site rule (the cloud stays the source of truth), the outbox lease shared by replicas.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class GatewayEventRecorderTests(PostgresServer server) : PostgresTest(server)
{
    private const string Serial = "CPAP-2301-9912";
    private const string Gateway = "gw-a";
    private const string Config = """{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}""";

    private GatewayEventRecorder Recorder => new(DataSource);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await RegistrySchema.MigrateAsync(DataSource, Logger<GatewayEventRecorderTests>(), CancellationToken.None);
        await Edge.Storage.Fleet.FleetSchema.MigrateAsync(DataSource, Logger<GatewayEventRecorderTests>(), CancellationToken.None);
        await ExecuteAsync($"""
            INSERT INTO clinics (id, name, created_at) VALUES ('ward', 'Ward', now());
            INSERT INTO gateways (id, clinic_id, name, status, registered_at) VALUES ('{Gateway}', 'ward', 'A', 'active', now()), ('gw-b', 'ward', 'B', 'active', now());
            INSERT INTO devices (serial, kind, clinic_id, gateway_id, status, registered_at) VALUES ('{Serial}', 'cpap', 'ward', '{Gateway}', 'active', now());
            """);
    }

    [Fact]
    public async Task A_new_version_supersedes_unanswered_ones_and_events_move_states_only_forwards()
    {
        await PushAsync();
        await PushAsync();
        Assert.Equal(["1|superseded", "2|queued"], await StatesAsync());
        Assert.Equal(2, await ScalarAsync<int>($"SELECT config_version FROM devices WHERE serial = '{Serial}'"));

        var applied = Event(2, GatewayEvent.ConfigApplied, version: 2);
        Assert.All(await Recorder.RecordAsync(Gateway, [Event(1, GatewayEvent.ConfigDelivered, version: 2), applied], default), o => Assert.Null(o.Ignored));
        Assert.Equal(["1|superseded", "2|applied"], await StatesAsync());

        // A late re-send of "delivered", or an ack for the superseded version, moves nothing backwards.
        await Recorder.RecordAsync(Gateway, [Event(1, GatewayEvent.ConfigDelivered, version: 2), Event(3, GatewayEvent.ConfigApplied, version: 1)], default);
        Assert.Equal(["1|superseded", "2|applied"], await StatesAsync());
    }

    [Fact]
    public async Task Presence_moves_only_forwards_a_stale_or_replayed_event_changes_nothing_and_is_kept_once()
    {
        var t0 = Clock.GetUtcNow();
        var online = Presence(1, GatewayEvent.Online, t0);
        var offline = Presence(2, GatewayEvent.Offline, t0.AddMinutes(5));
        Assert.All(await Recorder.RecordAsync(Gateway, [online, offline], default), o => Assert.Null(o.Ignored));
        Assert.Equal($"offline|{t0.AddMinutes(5).ToUniversalTime():O}|2", await PresenceStateAsync());

        // The online event again (a lost ack), and a late one from before the offline: both ignored, the state stays.
        var replayed = await Recorder.RecordAsync(Gateway, [online, Presence(7, GatewayEvent.Online, t0.AddMinutes(4))], default);
        Assert.All(replayed, o => Assert.Equal("stale or repeated presence: a newer change is recorded", o.Ignored));
        Assert.Equal($"offline|{t0.AddMinutes(5).ToUniversalTime():O}|2", await PresenceStateAsync());

        // The same change re-sent is one entry of the gateway's events; a newer one moves the state.
        await Recorder.RecordAsync(Gateway, [offline, Presence(3, GatewayEvent.Online, t0.AddMinutes(6))], default);
        Assert.Equal($"online|{t0.AddMinutes(6).ToUniversalTime():O}|3", await PresenceStateAsync());
        Assert.Equal(3, await ScalarAsync<long>("SELECT count(*) FROM gateway_events WHERE type = 'device_presence'"));

        // Another gateway may not report on the device at all, and a presence without a state is refused.
        Assert.Equal("the device is registered to another gateway", (await Recorder.RecordAsync("gw-b", [Presence(9, GatewayEvent.Offline, t0.AddHours(1))], default)).Single().Ignored);
        Assert.NotNull((await Recorder.RecordAsync(Gateway, [Presence(10, "asleep", t0.AddHours(1))], default)).Single().Ignored);
        Assert.Equal($"online|{t0.AddMinutes(6).ToUniversalTime():O}|3", await PresenceStateAsync());
    }

    [Fact]
    public async Task A_gateway_may_report_only_on_its_own_devices()
    {
        await PushAsync();
        var outcomes = await Recorder.RecordAsync("gw-b", [Event(1, GatewayEvent.ConfigApplied, version: 1)], default);
        Assert.Equal("the device is registered to another gateway", outcomes.Single().Ignored);
        Assert.Equal(["1|queued"], await StatesAsync());
    }

    [Fact]
    public async Task An_on_site_config_becomes_the_next_version_when_the_cloud_did_not_change_meanwhile()
    {
        await PushAsync();
        var onSite = OnSite(id: 1, version: 2, baseVersion: 1);
        Assert.Null((await Recorder.RecordAsync(Gateway, [onSite], default)).Single().Ignored);
        Assert.Null((await Recorder.RecordAsync(Gateway, [onSite], default)).Single().Ignored); // re-sent: no change
        Assert.Equal(["1|queued", "2|delivered"], await StatesAsync());
        Assert.Equal("on-site|1|anna (on site, gateway gw-a)",
            await ScalarAsync<string>($"SELECT concat_ws('|', source, base_version, created_by) FROM device_configs WHERE version = 2"));
        Assert.Equal(["config.on-site"], await ColumnAsync("SELECT action FROM audit_log"));
    }

    [Fact]
    public async Task The_cloud_wins_when_its_config_changed_while_the_gateway_was_offline()
    {
        await PushAsync();
        await PushAsync(); // version 2 pushed in the cloud while the technician, offline, pushed on top of version 1
        await ExecuteAsync($"UPDATE device_configs SET next_send_at = now() + interval '1 hour' WHERE version = 2");

        var outcome = (await Recorder.RecordAsync(Gateway, [OnSite(id: 1, version: 2, baseVersion: 1)], default)).Single();

        Assert.Contains("version 2 stays the desired config", outcome.Ignored);
        Assert.Equal(["1|superseded", "2|queued"], await StatesAsync());
        Assert.Equal("cloud", await ScalarAsync<string>("SELECT source FROM device_configs WHERE version = 2"));
        Assert.Equal(["config.on-site-overridden"], await ColumnAsync("SELECT action FROM audit_log"));
        Assert.True(await ScalarAsync<bool>("SELECT next_send_at <= now() FROM device_configs WHERE version = 2"), "the cloud's version is sent again at once");
    }

    [Fact]
    public async Task The_outbox_hands_each_due_row_to_one_replica_and_backs_off_re_sends()
    {
        await PushAsync();
        var first = new DownlinkOutbox(DataSource, Clock);
        var second = new DownlinkOutbox(NewDataSource(), Clock);

        var taken = await Task.WhenAll(first.TakeDueAsync(10, default), second.TakeDueAsync(10, default));
        var message = Assert.Single(taken.SelectMany(t => t));
        Assert.Equal(Gateway, message.GatewayId);
        using (var payload = JsonDocument.Parse(message.Payload))
        {
            // jsonb keeps the config's values, not its key order: compare what a device reads.
            Assert.Equal(Serial, payload.RootElement.GetProperty("serial").GetString());
            Assert.Equal(1, payload.RootElement.GetProperty("version").GetInt32());
            Assert.Equal(26, payload.RootElement.GetProperty("config").GetProperty("alerts").GetProperty("rr_high").GetInt32());
        }

        Assert.Empty(await first.TakeDueAsync(10, default));

        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Single(await first.TakeDueAsync(10, default));
        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Empty(await first.TakeDueAsync(10, default)); // the second re-send waits 60 s

        // The gateway announced it is listening: what is queued for it goes now, not after the interval.
        await first.SendNowAsync(Gateway, default);
        Assert.Single(await first.TakeDueAsync(10, default));
        await first.SendNowAsync("gw-b", default); // another gateway's announcement changes nothing here
        Assert.Empty(await first.TakeDueAsync(10, default));

        // Delivered: never sent again.
        await Recorder.RecordAsync(Gateway, [Event(1, GatewayEvent.ConfigDelivered, version: 1)], default);
        Clock.Advance(TimeSpan.FromHours(2));
        Assert.Empty(await first.TakeDueAsync(10, default));
    }

    [Fact]
    public async Task Firmware_progress_only_moves_forwards_and_a_newer_job_supersedes_an_unfinished_one()
    {
        var job = Guid.NewGuid();
        await CreateJobAsync(job);
        var t0 = Clock.GetUtcNow();
        await Recorder.RecordAsync(Gateway, [
            Event(1, GatewayEvent.FirmwareDelivered, job: job),
            Event(2, GatewayEvent.FirmwareProgressed, job: job, status: "installing", at: t0.AddSeconds(10)),
            Event(3, GatewayEvent.FirmwareProgressed, job: job, status: "downloading", at: t0.AddSeconds(5)), // late
        ], default);
        Assert.Equal("installing", await ScalarAsync<string>("SELECT state FROM firmware_job_devices"));

        var newer = Guid.NewGuid();
        await CreateJobAsync(newer);
        Assert.Equal(["installing→superseded", "queued"],
            await ColumnAsync($"SELECT CASE WHEN job_id = '{job}' THEN 'installing→' || state ELSE state END FROM firmware_job_devices ORDER BY queued_at, job_id = '{newer}'"));
        var late = await Recorder.RecordAsync(Gateway, [Event(4, GatewayEvent.FirmwareProgressed, job: job, status: "done", at: t0.AddSeconds(20))], default);
        Assert.NotNull(late.Single().Ignored);
    }

    private async Task PushAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await ConfigPushes.PushAsync(connection, transaction, Serial, Config, "tester", Clock.GetUtcNow(), default);
        await transaction.CommitAsync();
    }

    private async Task CreateJobAsync(Guid id)
    {
        Clock.Advance(TimeSpan.FromSeconds(1));
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await FirmwareJobs.CreateAsync(connection, transaction, id, "cpap", "5.0.0", "https://fw.example/cpap.bin", new string('b', 64), [Serial], "tester",
            Clock.GetUtcNow(), default);
        await transaction.CommitAsync();
    }

    private GatewayEvent Event(long id, string type, int? version = null, Guid? job = null, string? status = null, DateTimeOffset? at = null) =>
        new(id, type, Serial, at ?? Clock.GetUtcNow(), Version: version, JobId: job, Status: status);

    private GatewayEvent OnSite(long id, int version, int baseVersion)
    {
        using var message = JsonDocument.Parse($$"""{"serial":"{{Serial}}","version":{{version}},"config":{{Config}}}""");
        return new GatewayEvent(id, GatewayEvent.ConfigOnSite, Serial, Clock.GetUtcNow(), Version: version, BaseVersion: baseVersion,
            Config: message.RootElement.Clone(), Actor: "anna");
    }

    private static GatewayEvent Presence(long id, string status, DateTimeOffset at) =>
        new(id, GatewayEvent.DevicePresence, Serial, at, Status: status, Reason: PresenceReasons.Connected);

    private async Task<string> PresenceStateAsync()
    {
        await using var command = DataSource.CreateCommand($"SELECT state, since, last_change_id FROM device_presence WHERE serial = '{Serial}'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return $"{reader.GetString(0)}|{reader.GetFieldValue<DateTimeOffset>(1):O}|{reader.GetInt64(2)}";
    }

    private Task<List<string>> StatesAsync() =>
        ColumnAsync($"SELECT version || '|' || state FROM device_configs WHERE serial = '{Serial}' ORDER BY version");

    private async Task ExecuteAsync(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
