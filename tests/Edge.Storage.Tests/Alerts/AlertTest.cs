using Edge.Storage.Alerts;
using Edge.Storage.Registry;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Edge.Storage.Tests.Alerts;

/// <summary>A fresh registry database with the alert tables, and ways to register clinics, devices, configs and subscriptions.</summary>
public abstract class AlertTest(PostgresServer server) : PostgresTest(server)
{
    protected AlertRecorder Recorder { get; private set; } = null!;

    protected WebhookSubscriptions Subscriptions { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await AlertSchema.MigrateAsync(DataSource, Logger<AlertTest>(), CancellationToken.None);
        Recorder = NewRecorder(DataSource);
        Subscriptions = new WebhookSubscriptions(DataSource, Clock, Logger<WebhookSubscriptions>());
    }

    protected AlertRecorder NewRecorder(NpgsqlDataSource dataSource, AlertOptions? options = null) =>
        new(dataSource, Options.Create(options ?? new AlertOptions()), Clock, Logger<AlertRecorder>());

    protected Task ClinicAsync(string id) =>
        ExecuteAsync("INSERT INTO clinics (id, name, created_at) VALUES ($1, $1, now())", id);

    /// <summary>Registers a device in <paramref name="clinic"/>, with <paramref name="config"/> as its current config version <paramref name="version"/> when given.</summary>
    protected async Task DeviceAsync(string serial, string clinic, int? version = null, string? config = null)
    {
        var kind = serial.Split('-')[0] switch { "CPAP" => "cpap", "BIPAP" => "bipap", "OXY" => "oxygen", _ => "ecg" };
        await ExecuteAsync("INSERT INTO devices (serial, kind, clinic_id, status, registered_at) VALUES ($1, $2, $3, 'active', now())", serial, kind, clinic);
        if (version is { } v && config is not null)
        {
            await ConfigAsync(serial, v, config);
        }
    }

    /// <summary>Adds config <paramref name="version"/> and makes it the device's current one, as the API does on a push.</summary>
    protected async Task ConfigAsync(string serial, int version, string config)
    {
        await ExecuteAsync("INSERT INTO device_configs (serial, version, config, source, created_at, created_by) VALUES ($1, $2, $3::jsonb, 'cloud', now(), 'test')",
            serial, version, config);
        await ExecuteAsync("UPDATE devices SET config_version = $2 WHERE serial = $1", serial, version);
    }

    protected static string CpapConfig(double leak, int rrLow = 10, int rrHigh = 26) =>
        $$$"""{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":{{{leak}}},"rr_low":{{{rrLow}}},"rr_high":{{{rrHigh}}}}}""";

    protected async Task<Guid> SubscribeAsync(string? clinic = null, string[]? rules = null, string url = "http://127.0.0.1:9/hook") =>
        (await Subscriptions.CreateAsync(new WebhookSubscriptionRequest(url, clinic, rules), "tester", CancellationToken.None)).Subscription.Id;

    protected async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Probe.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        await command.ExecuteNonQueryAsync();
    }
}
