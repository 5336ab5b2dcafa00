using Edge.Ingest.Metrics;
using Edge.Storage.Alerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Alerts;

/// <summary>What one sweep did.</summary>
/// <param name="MaintenanceDue">New <c>maintenance_due</c> alerts.</param>
/// <param name="GatewaySilent">New <c>gateway_silent</c> alerts.</param>
/// <param name="Resolved">Silence alerts resolved because their gateway was heard again.</param>
internal sealed record AlertSweepResult(int MaintenanceDue, int GatewaySilent, int Resolved);

/// <summary>
/// Every <see cref="AlertSweepOptions.SweepIntervalSeconds"/>, raises the alerts no reading raises (maintenance due, a
/// gateway silent) and resolves the silence of gateways heard again. Every worker replica runs one.
/// </summary>
/// <remarks>
/// Replicas need no lock: an alert's id is derived from (rule, subject, period) (<see cref="AlertId.ForSubject"/>) and
/// recorded if absent, so two replicas sweeping at once record each alert once and queue its webhooks once; resolving is
/// an UPDATE of unresolved rows, which the second replica finds already done. The cost of running it twice is two
/// reads of the registry.
/// </remarks>
internal sealed class AlertSweep(
    SubjectAlerts subjects,
    AlertRecorder recorder,
    AlertLifecycle lifecycle,
    IOptions<AlertSweepOptions> options,
    TimeProvider time,
    ILogger<AlertSweep> logger) : BackgroundService
{
    private readonly AlertSweepOptions _options = options.Value;

    /// <summary>One sweep: resolve the heard, then raise what is due and who is silent.</summary>
    public async Task<AlertSweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var resolved = await lifecycle.ResolveHeardGatewaysAsync(cancellationToken);
        foreach (var alert in resolved)
        {
            Log.GatewayHeardAgain(logger, alert.GatewayId ?? "", alert.Id);
        }

        var now = time.GetUtcNow();
        var due = await recorder.RecordRaisedAsync(
            await subjects.MaintenanceDueAsync(now, _options.MaintenanceDueDays, cancellationToken), cancellationToken);
        var silent = await recorder.RecordRaisedAsync(
            await subjects.SilentGatewaysAsync(now, TimeSpan.FromSeconds(_options.GatewaySilentAfterSeconds), cancellationToken),
            cancellationToken);
        foreach (var alert in silent)
        {
            Log.GatewaySilent(logger, alert.GatewayId ?? "", alert.DeviceTime);
        }
        return new AlertSweepResult(due.Count, silent.Count, resolved.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(_options.SweepIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // The registry is away (restart, failover): the next sweep finds the same alerts, nothing is lost.
                Log.AlertSweepFailed(logger, interval.TotalSeconds, ex);
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
