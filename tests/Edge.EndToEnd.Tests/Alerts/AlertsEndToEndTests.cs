using System.Globalization;
using Edge.Storage.Alerts;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Edge.EndToEnd.Tests.Alerts;

/// <summary>
/// A device's reading above its configured threshold travels device → agent → mosquitto → ingest worker → alert row →
/// webhook receiver, all real, and arrives once, signed with the subscription's secret.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class AlertsEndToEndTests(PostgresServer postgres)
{
    private const string Serial = "CPAP-9300-0001";

    [Fact]
    public async Task A_cpap_leak_above_the_configured_threshold_reaches_the_subscribed_webhook_signed_and_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var registry = NpgsqlDataSource.Create(cloud.ConnectionString);
        await AlertSchema.MigrateAsync(registry, NullLogger.Instance, CancellationToken.None);
        await ExecuteAsync(registry, "INSERT INTO clinics (id, name, created_at) VALUES ('clinic-e2e', 'End to end', now())");
        await ExecuteAsync(registry, $"INSERT INTO gateways (id, clinic_id, name, status, registered_at) VALUES ('{InProcessAgent.DefaultGatewayId}', 'clinic-e2e', 'E2E', 'active', now())");
        await ExecuteAsync(registry, $"INSERT INTO devices (serial, kind, clinic_id, gateway_id, status, registered_at) VALUES ('{Serial}', 'cpap', 'clinic-e2e', '{InProcessAgent.DefaultGatewayId}', 'active', now())");
        await ExecuteAsync(registry, """
            INSERT INTO device_configs (serial, version, config, source, created_at, created_by)
            VALUES ('CPAP-9300-0001', 3, '{"target_pressure":12,"humidity_level":3,"alerts":{"leak_threshold":24,"rr_low":10,"rr_high":26}}', 'cloud', now(), 'e2e')
            """);
        await ExecuteAsync(registry, $"UPDATE devices SET config_version = 3 WHERE serial = '{Serial}'");
        var subscription = await new WebhookSubscriptions(registry, TimeProvider.System, NullLogger<WebhookSubscriptions>.Instance)
            .CreateAsync(new WebhookSubscriptionRequest(receiver.Url(), "clinic-e2e", [AlertRuleNames.CpapLeakHigh]), "e2e", CancellationToken.None);

        await cloud.StartWorkerAsync("ingest-a");
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var now = DateTimeOffset.UtcNow;
        // Below the configured 24 L/min, then above it (both below the 30 L/min default, so only the config can raise it).
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", Reading(now.AddSeconds(-1), leak: 23.9))).IsSuccess);
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", Reading(now, leak: 27.5))).IsSuccess);

        await Eventually.TrueAsync(() => receiver.Received.Count > 0, TimeSpan.FromSeconds(90), "the alert to reach the webhook receiver");
        await EndToEndTests.WaitForDrainAsync(agent);
        await Eventually.TrueAsync(
            async () => await ScalarAsync<long>(registry, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 1,
            TimeSpan.FromSeconds(30), "the delivery to be recorded as delivered");

        var request = Assert.Single(receiver.Received);
        Assert.True(WebhookSignature.Verify(subscription.Secret, request.Timestamp, request.Body, request.Signature, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance),
            "the receiver verifies the signature and the timestamp");
        var alert = request.Event.Alert;
        Assert.Equal((Serial, "cpap", "clinic-e2e", InProcessAgent.DefaultGatewayId, AlertRuleNames.CpapLeakHigh, AlertSeverity.Warning),
            (alert.Serial, alert.Kind, alert.ClinicId, alert.GatewayId, alert.Rule, alert.Severity));
        Assert.Equal((27.5, 24.0, 3), (alert.Value, alert.Threshold, alert.ConfigVersion));
        Assert.Equal("Leak 27.5 L/min above threshold 24 L/min", alert.Message);
        Assert.Equal(now.ToUnixTimeSeconds(), alert.DeviceTime.ToUnixTimeSeconds());
        Assert.Equal(1L, await ScalarAsync<long>(registry, "SELECT count(*) FROM alerts"));
    }

    private static string Reading(DateTimeOffset at, double leak) => string.Create(CultureInfo.InvariantCulture, $$"""
        {"serial":"{{Serial}}","timestamp":"{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss}}Z","metrics":{"pressure_cm_h2o":12.4,"respiratory_rate":18,"leak_rate_lpm":{{leak}},"patient_mode":"AutoCPAP"},"firmware":"v4.2.1"}
        """);

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
