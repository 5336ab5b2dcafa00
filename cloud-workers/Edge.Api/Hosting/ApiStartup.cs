using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Reports;

namespace Edge.Api.Hosting;

/// <summary>Migrates the stores, the registry, the alert and the report tables before the API serves (idempotent; replicas take turns under a lock).</summary>
internal sealed class ApiStartup(StoreFactory stores, ILogger<ApiStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await stores.MigrateAllAsync(cancellationToken);
        await AlertSchema.MigrateAsync(stores.Registry, logger, cancellationToken);
        await ReportSchema.MigrateAsync(stores.Registry, logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
