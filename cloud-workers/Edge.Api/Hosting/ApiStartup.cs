using Edge.Storage;

namespace Edge.Api.Hosting;

/// <summary>Migrates the registry and the stores before the API serves (idempotent; replicas take turns under a lock).</summary>
internal sealed class ApiStartup(StoreFactory stores) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => stores.MigrateAllAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
