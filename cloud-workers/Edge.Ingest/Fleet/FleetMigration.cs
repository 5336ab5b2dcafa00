using Microsoft.Extensions.Logging;
using Edge.Storage;
using Edge.Storage.Fleet;

namespace Edge.Ingest.Fleet;

/// <summary>Creates or upgrades the fleet tables at start, before the MQTT consumer takes the first event or heartbeat.</summary>
internal sealed class FleetMigration(StoreFactory stores, ILogger<FleetMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await FleetSchema.MigrateAsync(stores.Migrations.Registry, logger, cancellationToken);
        Log.StoreMigrated(logger, FleetSchema.Store);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
