using Microsoft.Extensions.Options;
using Edge.Ingest.Alerts;
using Edge.Ingest.Broker;
using Edge.Ingest.Downlink;
using Edge.Ingest.Ingest;
using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Ingest.Reports;
using Edge.Hosting;
using Edge.Hosting.Metrics;
using Edge.Storage;
using Edge.Storage.Downlink;
using Edge.Storage.Quarantine;
using Edge.Storage.Registry;
using Edge.Storage.Reports;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Edge.Ingest;

/// <summary>Composes the ingest worker: storage, the batch processor, migrations at start, retention, alerts and webhooks, the MQTT consumer.</summary>
internal static class IngestApplication
{
    public static HostApplicationBuilder AddIngestWorker(this HostApplicationBuilder builder)
    {
        // The host builder put the command line in already; the file and the environment go above what it has.
        builder.Configuration.AddEdgeSettings("EDGE_INGEST_CONFIG", "/etc/edge-ingest/ingest.json", args: null);
        builder.Services.AddSystemd();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddEdgeStorage(DatabaseRole.Worker);
        builder.Services.AddOptions<IngestBrokerOptions>().BindConfiguration(IngestBrokerOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestBrokerOptions>, IngestBrokerOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<IngestBrokerOptions>, IngestBrokerOptionsRules>();
        builder.Services.AddOptions<IngestWorkerOptions>().BindConfiguration(IngestWorkerOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestWorkerOptions>, IngestWorkerOptionsValidator>();
        // Metrics first, so the collector listens before any other part measures anything.
        builder.Services.AddSingleton<WorkerMetrics>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerMetrics>());
        builder.Services.AddMetricsListener(sp => [sp.GetRequiredService<WorkerMetrics>().Meter]);
        builder.Services.AddSingleton(sp => new GatewayPresence(sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<BatchProcessor>();
        builder.Services.AddOptions<OwnershipOptions>().BindConfiguration(OwnershipOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OwnershipOptions>, OwnershipOptionsValidator>();
        builder.Services.AddSingleton(sp => new QuarantineStore(sp.GetRequiredService<StoreFactory>().Registry));
        builder.Services.AddSingleton<RegistryOwnership>();

        // Order matters: schemas exist before the first batch is taken (the alert tables after the registry).
        builder.Services.AddHostedService<StoreMaintenance>();
        // After the migrations (the triggers that notify exist), before the first batch (so the cache is kept honest from the start).
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RegistryOwnership>());
        builder.Services.AddHostedService<QuarantineReleaser>();
        // Dead letters and rejected readings an admin asked to requeue (the API marks them, this tries them).
        builder.Services.AddHostedService<LedgerRequeuer>();
        builder.Services.AddIngestAlerts();
        builder.AddIngestReports();
        builder.Services.AddHostedService<Fleet.FleetMigration>();
        // Every migration has run: the owner's connections (Stores:MigrationUsername) close before the first batch.
        builder.Services.AddHostedService<MigrationsDone>();
        builder.Services.AddHostedService<IngestWorker>();

        // Cloud to gateway: desired configs and firmware offers out, the gateways' device-state events in.
        builder.Services.AddSingleton(sp => new DownlinkOutbox(sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new GatewayEventRecorder(sp.GetRequiredService<StoreFactory>().Registry));
        builder.Services.AddSingleton<IGatewayMessageHandler, GatewayEventsHandler>();

        // Gateway health: the heartbeats (latest state per gateway).
        builder.Services.AddSingleton(sp => new Edge.Storage.Fleet.HeartbeatRecorder(sp.GetRequiredService<StoreFactory>().Registry));
        builder.Services.AddSingleton<IGatewayMessageHandler, Fleet.HeartbeatHandler>();
        builder.Services.AddHostedService<DownlinkDispatcher>();
        return builder;
    }

    /// <summary>
    /// The report table and both report handlers, always: configuration may still be added after this call (the tests
    /// do), so whether a bucket is set is decided per message; without one, gateways are told to try again later.
    /// </summary>
    private static void AddIngestReports(this HostApplicationBuilder builder)
    {
        builder.Services.AddEdgeReports();
        builder.Services.AddHostedService<ReportMigration>();
        builder.Services.AddSingleton<IGatewayMessageHandler, UploadRequestHandler>();
        builder.Services.AddSingleton<IGatewayMessageHandler, ReportRecordHandler>();
    }
}
