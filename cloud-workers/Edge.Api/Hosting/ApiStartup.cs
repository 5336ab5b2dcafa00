using Edge.Api.GatewayCa;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Registry;
using Edge.Storage.Reports;

namespace Edge.Api.Hosting;

/// <summary>
/// Migrates the stores, the registry, the alert and report tables and the issued gateway certificates before the API
/// serves (idempotent; replicas take turns under a lock). Taking the gateway CA here loads it, so a bad CA stops the start.
/// </summary>
internal sealed class ApiStartup(StoreFactory stores, GatewayCertificateAuthority gatewayCa, ILogger<ApiStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await stores.MigrateAllAsync(cancellationToken);
        await AlertSchema.MigrateAsync(stores.Registry, logger, cancellationToken);
        await ReportSchema.MigrateAsync(stores.Registry, logger, cancellationToken);
        await GatewayCertificateSchema.MigrateAsync(stores.Registry, logger, cancellationToken);
        if (gatewayCa.Enabled)
        {
            Log.GatewayCaLoaded(logger, gatewayCa.Subject, (int)gatewayCa.Validity.TotalDays);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
