using Edge.Agent.Journal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Uplink;

/// <summary>
/// Runs the batch sender when an uplink is configured and says so once when it is not. Registered after the broker,
/// so it stops first: an ack being applied finishes before the journal closes. If it fails, the host stops and
/// systemd restarts the agent rather than leaving a gateway that journals but never syncs.
/// </summary>
internal sealed class UplinkHost(IServiceProvider services, IOptions<UplinkOptions> options, ILogger<UplinkHost> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var journal = services.GetRequiredService<ReadingJournal>();
        services.GetRequiredService<UplinkState>().RegisterGauges(() => journal.Snapshot.EntriesPerLane.Sum());
        if (!options.Value.Enabled)
        {
            Log.UplinkDisabled(logger);
            return;
        }

        var gatewayId = services.GetRequiredService<IOptions<Hosting.AgentOptions>>().Value.GatewayId;
        await using var connection = ActivatorUtilities.CreateInstance<UplinkConnection>(services, gatewayId);
        var sender = ActivatorUtilities.CreateInstance<BatchSender>(services, connection);

        // The batch sender owns the connection's lifetime; the other uplink workers share the link and stop with it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var workers = services.GetServices<IUplinkWorker>().Select(w => RunWorkerAsync(w, connection, stopping.Token)).ToList();
        try
        {
            await sender.RunAsync(stoppingToken);
        }
        finally
        {
            await stopping.CancelAsync();
            await Task.WhenAll(workers);
        }
    }

    private async Task RunWorkerAsync(IUplinkWorker worker, IUplinkChannel channel, CancellationToken stoppingToken)
    {
        try
        {
            await worker.RunAsync(channel, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // One feature failing must not stop telemetry: it is logged loudly and the rest keeps running.
            Log.UplinkWorkerFailed(logger, worker.GetType().Name, ex);
        }
    }
}
