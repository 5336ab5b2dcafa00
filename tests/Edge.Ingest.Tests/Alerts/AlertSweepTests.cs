using Edge.Ingest.Alerts;
using Edge.Storage.Alerts;
using Edge.Storage.Registry;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Edge.Ingest.Tests.Alerts;

/// <summary>The worker's alert sweep against real PostgreSQL, on a fake clock, with two replicas where it matters.</summary>
[Collection(PostgresServer.Collection)]
public sealed class AlertSweepTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);
    private static int s_databases;

    private readonly FakeTimeProvider _clock = new(Start);
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync($"alert_sweep_{Interlocked.Increment(ref s_databases)}");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        await AlertSchema.MigrateAsync(_dataSource, NullLogger.Instance, CancellationToken.None);
        await ExecuteAsync("INSERT INTO clinics (id, name, created_at) VALUES ('north', 'North', $1)", Start.AddDays(-30));
        await ExecuteAsync("INSERT INTO gateways (id, clinic_id, name, status, registered_at, last_seen_at) VALUES ('gw-1', 'north', 'Ward', 'active', $1, $2)",
            Start.AddDays(-30), Start);
        await ExecuteAsync("INSERT INTO devices (serial, kind, clinic_id, gateway_id, status, registered_at) VALUES ('OXY-8844-5521', 'oxygen', 'north', 'gw-1', 'active', $1)",
            Start.AddDays(-30));
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task Maintenance_due_is_raised_once_per_due_date_by_two_replicas_sweeping_together()
    {
        await new WebhookSubscriptions(_dataSource, _clock, NullLogger<WebhookSubscriptions>.Instance)
            .CreateAsync(new WebhookSubscriptionRequest("http://127.0.0.1:9/hook"), "test", CancellationToken.None);
        // Applied: due in 5 days (inside the 7-day window). A later queued version moves it; the device does not have it yet.
        await ConfigAsync(1, "2026-01-15", "applied");
        await ConfigAsync(2, "2026-06-01", "queued");

        var (first, second) = (Sweep(), Sweep());
        var results = await Task.WhenAll(first.SweepAsync(CancellationToken.None), second.SweepAsync(CancellationToken.None));
        Assert.Equal(1, results.Sum(r => r.MaintenanceDue));
        await Task.WhenAll(first.SweepAsync(CancellationToken.None), second.SweepAsync(CancellationToken.None));

        Assert.Equal("maintenance_due|warning|OXY-8844-5521|north|2026-01-15|1|5|7|open",
            await ScalarAsync<string>("SELECT string_agg(concat_ws('|', rule, severity, serial, clinic_id, detail, config_version, value, threshold, state), ';') FROM alerts"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));

        // A new due date (the device applied a config after its service) is a new alert; the old one stays as it was.
        await ExecuteAsync("UPDATE device_configs SET state = 'superseded' WHERE version = 2");
        await ConfigAsync(3, "2026-01-12", "applied");
        Assert.Equal(1, (await first.SweepAsync(CancellationToken.None)).MaintenanceDue);
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE rule = 'maintenance_due'"));
    }

    [Fact]
    public async Task Maintenance_outside_the_window_raises_nothing_until_the_window_reaches_it()
    {
        await ConfigAsync(1, "2026-01-18", "applied");
        var sweep = Sweep();
        Assert.Equal(0, (await sweep.SweepAsync(CancellationToken.None)).MaintenanceDue);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, (await sweep.SweepAsync(CancellationToken.None)).MaintenanceDue);
    }

    [Fact]
    public async Task A_silent_gateway_raises_one_alert_per_episode_resolved_when_it_is_heard_again()
    {
        var sweep = Sweep();
        var presence = new GatewayPresence(_dataSource, _clock);
        Assert.Equal(new AlertSweepResult(0, 0, 0), await sweep.SweepAsync(CancellationToken.None));

        _clock.Advance(TimeSpan.FromSeconds(901));
        Assert.Equal(1, (await sweep.SweepAsync(CancellationToken.None)).GatewaySilent);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(new AlertSweepResult(0, 0, 0), await Sweep().SweepAsync(CancellationToken.None));
        Assert.Equal("gateway_silent|critical||gateway|north|gw-1|open", await ScalarAsync<string>(
            "SELECT concat_ws('|', rule, severity, coalesce(serial, ''), kind, clinic_id, gateway_id, state) FROM alerts"));

        // Heard again: the next sweep resolves the episode as the system.
        await presence.TouchAsync("gw-1", CancellationToken.None);
        Assert.Equal(new AlertSweepResult(0, 0, 1), await sweep.SweepAsync(CancellationToken.None));
        Assert.Equal("resolved|system", await ScalarAsync<string>("SELECT concat_ws('|', state, resolved_by) FROM alerts"));

        // Silent again: a second episode, a second alert.
        _clock.Advance(TimeSpan.FromSeconds(1000));
        Assert.Equal(1, (await sweep.SweepAsync(CancellationToken.None)).GatewaySilent);
        Assert.Equal("open:1;resolved:1", await ScalarAsync<string>(
            "SELECT string_agg(state || ':' || n, ';' ORDER BY state) FROM (SELECT state, count(*) AS n FROM alerts WHERE rule = 'gateway_silent' GROUP BY state) s"));
    }

    [Fact]
    public async Task A_retired_gateway_is_never_silent()
    {
        await ExecuteAsync("UPDATE gateways SET status = 'retired', retired_at = $1", Start);
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(new AlertSweepResult(0, 0, 0), await Sweep().SweepAsync(CancellationToken.None));
    }

    private AlertSweep Sweep()
    {
        var recorder = new AlertRecorder(_dataSource, Options.Create(new AlertOptions()), _clock, NullLogger<AlertRecorder>.Instance);
        return new AlertSweep(new SubjectAlerts(_dataSource), recorder, new AlertLifecycle(_dataSource, _clock),
            Options.Create(new AlertSweepOptions()), _clock, NullLogger<AlertSweep>.Instance);
    }

    private Task ConfigAsync(int version, string due, string state) => ExecuteAsync(
        "INSERT INTO device_configs (serial, version, config, source, created_at, created_by, state) VALUES ('OXY-8844-5521', $1, $2::jsonb, 'cloud', $3, 'test', $4)",
        version, $$"""{"flow_rate_lpm":2.0,"night_mode":false,"maintenance_due_date":"{{due}}"}""", Start, state);

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter is DateTimeOffset at ? at.UtcDateTime : parameter });
        }
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
