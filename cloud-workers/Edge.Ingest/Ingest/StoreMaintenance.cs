using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Storage;
using Edge.Storage.Quarantine;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Ingest;

/// <summary>
/// Migrates every store before the worker takes its first batch (each migration holds a PostgreSQL advisory lock, so
/// replicas starting together do not race), waiting for the databases if they are not up yet, then applies retention
/// once a day (the reading stores, the ledger, and the quarantine's unclaimed readings).
/// </summary>
internal sealed class StoreMaintenance(
    StoreFactory stores,
    QuarantineStore quarantine,
    WorkerMetrics metrics,
    IOptions<OwnershipOptions> ownership,
    TimeProvider time,
    ILogger<StoreMaintenance> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _retention;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Nothing else of the worker starts before this: without its tables it could not store a batch.
        // As the schema owner when Stores:MigrationUsername is set; each migration then grants the worker's role its privileges.
        await StartupRetry.UntilReachableAsync(stores.Migrations.MigrateAllAsync, "Ingest worker start (store migrations)", logger, time, cancellationToken);
        foreach (var store in stores.Stores)
        {
            Log.StoreMigrated(logger, store.Name);
        }

        _retention = RetainAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_retention is not null)
        {
            await _retention;
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Deletes quarantined readings nobody claimed within the window (every replica may run it; each row is counted by the one that deleted it).</summary>
    internal async Task<int> ExpireQuarantineAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - ownership.Value.QuarantineWindow;
        var expired = await quarantine.ExpireAsync(cutoff, cancellationToken);
        metrics.Expired(expired);
        if (expired > 0)
        {
            Log.QuarantineExpired(logger, expired, cutoff);
        }
        return expired;
    }

    private async Task RetainAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var store in stores.Stores)
                {
                    await store.ApplyRetentionAsync(time.GetUtcNow(), stoppingToken);
                }

                await stores.Ledger.ApplyRetentionAsync(time.GetUtcNow(), stoppingToken);
                await ExpireQuarantineAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Retention is housekeeping: a failed run is logged and tried again tomorrow, ingest goes on.
                Log.RetentionFailed(logger, ex);
            }

            try
            {
                await Task.Delay(TimeSpan.FromDays(1), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
