using Edge.Api.GatewayCa;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Registry;
using Edge.Storage.Reports;

namespace Edge.Api.Hosting;

/// <summary>
/// Migrates the stores, the registry, the alert and report tables and the issued gateway certificates before the API
/// serves (idempotent; replicas take turns under a lock), waiting for the databases if they are not up yet. Taking the
/// gateway CA here loads it, so a bad CA stops the start.
/// </summary>
internal sealed class ApiStartup(StoreFactory stores, GatewayCertificateAuthority gatewayCa, TimeProvider time, ILogger<ApiStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Waits for a database that is not up yet; the API answers nothing (not even /healthz) until this is done.
        await StartupRetry.UntilReachableAsync(MigrateAsync, "API start (migrations)", logger, time, cancellationToken);
        // The owner's connections (Stores:MigrationUsername) are for the start only.
        await stores.EndMigrationsAsync();
        if (gatewayCa.Enabled)
        {
            Log.GatewayCaLoaded(logger, gatewayCa.Subject, (int)gatewayCa.Validity.TotalDays);
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // As the schema owner when Stores:MigrationUsername is set; each migration then grants the API's role its privileges.
        var owner = stores.Migrations;
        await owner.MigrateAllAsync(cancellationToken);
        await AlertSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
        await ReportSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
        await GatewayCertificateSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
        await AccountSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
        await Edge.Storage.Fleet.FleetSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
        await FhirExportSchema.MigrateAsync(owner.Registry, logger, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
