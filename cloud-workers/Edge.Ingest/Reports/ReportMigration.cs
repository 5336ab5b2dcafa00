using Edge.Storage.Reports;
using Edge.Storage;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Reports;

/// <summary>Creates or upgrades the report table at start, before the MQTT consumer takes the first report.</summary>
internal sealed class ReportMigration(StoreFactory stores, ILogger<ReportMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ReportSchema.MigrateAsync(stores.Migrations.Registry, logger, cancellationToken);
        Log.StoreMigrated(logger, ReportSchema.Store);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
