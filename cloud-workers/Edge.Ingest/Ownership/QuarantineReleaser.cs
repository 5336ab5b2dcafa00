using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Validation;
using Edge.Ingest.Ingest;
using Edge.Ingest.Metrics;
using Edge.Storage;
using Edge.Storage.Live;
using Edge.Storage.Quarantine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Edge.Ingest.Ownership;

/// <summary>
/// Moves quarantined readings into their stores once the registry says their serial is an active device of the active
/// gateway that sent them: on every registry change notification, when notifications resume, and every
/// <see cref="OwnershipOptions.RefreshSeconds"/> in case one was missed.
/// </summary>
/// <remarks>
/// The worker does it, not the API: the API never writes the reading stores, and a released reading must go through
/// exactly what a batch's reading goes through (lane, store, alerts, live viewers). Every replica may run the same pass
/// at the same moment: the stores and alerts insert if absent on the reading's id, and only the replica whose DELETE
/// removed a row counts it as released.
/// </remarks>
internal sealed class QuarantineReleaser(
    RegistryOwnership ownership,
    QuarantineStore quarantine,
    BatchProcessor processor,
    StoreFactory stores,
    WorkerMetrics metrics,
    IOptions<OwnershipOptions> options,
    TimeProvider time,
    ILogger<QuarantineReleaser> logger) : BackgroundService
{
    private const int PassSize = 500;

    private readonly OwnershipOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    var delay = Task.Delay(_options.Refresh, time, wait.Token);
                    var changed = ownership.Changes.WaitToReadAsync(wait.Token).AsTask();
                    await Task.WhenAny(delay, changed);
                    await wait.CancelAsync();
                    stoppingToken.ThrowIfCancellationRequested();
                }
                while (ownership.Changes.TryRead(out _))
                {
                }

                await ReleaseAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // The readings stay held; the next change or the next refresh tries again.
                Log.QuarantineReleaseFailed(logger, error.Message, _options.RefreshSeconds);
            }
        }
    }

    /// <summary>Releases everything releasable now, a pass of up to 500 at a time; returns how many this replica released.</summary>
    public async Task<int> ReleaseAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var since = time.GetUtcNow() - _options.QuarantineWindow;
            var rows = await quarantine.ReleasableAsync(since, PassSize, cancellationToken);
            if (rows.Count == 0)
            {
                break;
            }

            var readings = new List<StoredReading>(rows.Count);
            foreach (var row in rows)
            {
                // Validated when it was held; read again here because the store needs the parsed reading.
                var payload = System.Text.Encoding.UTF8.GetBytes(row.Payload);
                if (SerialNumber.TryParse(row.Serial, out var serial, out _) && PayloadValidator.ValidateTelemetry(payload, serial) is { IsValid: true } validated)
                {
                    readings.Add(new StoredReading(row.Id, ContentId.From(serial.Value, payload), row.GatewayId, row.Epoch, row.Sequence, serial, validated.Value!.Timestamp, row.ReceivedAt, false, payload, validated.Value));
                }
            }

            if (readings.Count == 0)
            {
                break; // nothing here can be stored (cannot happen while the validator is unchanged); expiry deletes it
            }

            var accepted = await processor.AcceptAsync(readings, cancellationToken);
            var released = await quarantine.RemoveAsync([.. readings.Select(r => r.Id)], cancellationToken);
            metrics.Released(released);
            total += released;
            foreach (var (kind, written, duplicates) in accepted.PerKind)
            {
                metrics.Readings(kind, WorkerMetrics.Stored, written);
                metrics.Readings(kind, WorkerMetrics.Duplicate, duplicates);
            }

            if (accepted.Stored > 0)
            {
                try
                {
                    await StoredReadingsNotice.NotifyAsync(stores.Registry, StoredReadingsNotice.RangesOf(readings), cancellationToken);
                }
                catch (Exception error) when (error is NpgsqlException or TimeoutException)
                {
                    // Live viewers miss a push; the readings are stored either way.
                }
            }

            if (rows.Count < PassSize)
            {
                break;
            }
        }

        if (total > 0)
        {
            Log.QuarantineReleased(logger, total);
        }
        return total;
    }
}
