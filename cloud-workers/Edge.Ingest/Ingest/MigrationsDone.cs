using Edge.Storage;

namespace Edge.Ingest.Ingest;

/// <summary>
/// Registered after every migration and before the consumer: closes the schema owner's connections
/// (<c>Stores:MigrationUsername</c>), which the worker needs at start only.
/// </summary>
internal sealed class MigrationsDone(StoreFactory stores) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => stores.EndMigrationsAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
