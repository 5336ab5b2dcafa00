using Edge.Storage;
using Edge.Storage.Alerts;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Alerts;

/// <summary>
/// Creates or upgrades the alert tables at start: registered after the store migrations (the registry comes first,
/// subscriptions name clinics) and before the MQTT consumer, so the first batch finds the tables it records alerts in.
/// </summary>
internal sealed class AlertMigration(StoreFactory stores, ILogger<AlertMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await AlertSchema.MigrateAsync(stores.Migrations.Registry, logger, cancellationToken);
        Log.StoreMigrated(logger, AlertSchema.Store);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
