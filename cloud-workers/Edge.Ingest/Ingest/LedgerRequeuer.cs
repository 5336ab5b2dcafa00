using System.Globalization;
using System.Text;
using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Storage;
using Edge.Storage.Ingest;
using Edge.Storage.Live;
using Edge.Storage.Quarantine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Ingest.Ingest;

/// <summary>
/// Tries again the dead letters and rejected readings an admin asked for (<c>POST /v1/dead-letters/{id}/requeue</c>,
/// <c>POST /v1/rejected-readings/{id}/requeue</c>), after a fix: a dead-lettered batch goes through
/// <see cref="BatchProcessor.ProcessAsync(string, ReadOnlyMemory{byte}, bool, CancellationToken)"/> again, a rejected
/// reading is re-validated, checked against the registry and stored through <see cref="BatchProcessor.AcceptAsync"/>,
/// exactly as a batch's reading. Stored = the ledger row is deleted; failed again = it stays with the new reason.
/// </summary>
/// <remarks>
/// The worker does it, not the API: the API never writes the reading stores. Polled every second like the downlink
/// outbox: a requeue is rare and operator-driven, and the query reads a partial index of pending rows only. Every
/// replica polls; a row is taken under <c>FOR UPDATE SKIP LOCKED</c>, and the stores insert if absent on the reading's id,
/// so a crash between storing and deleting only makes the next pass store nothing twice.
/// <para>
/// No commit ack is sent for a requeued batch: a batch is requeueable only when its header names the gateway of its
/// topic, which is exactly when the worker acknowledged it as dead-lettered, and the gateway deleted those readings then.
/// If that ack was lost, the gateway re-sends the batch and the re-send is stored (or found stored) like any other.
/// </para>
/// </remarks>
internal sealed class LedgerRequeuer(
    IngestLedger ledger,
    BatchProcessor processor,
    RegistryOwnership ownership,
    QuarantineStore quarantine,
    StoreFactory stores,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<LedgerRequeuer> logger) : BackgroundService
{
    /// <summary>How often pending requeues are looked for; a requested row is tried within about this long.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RequeuePendingAsync(stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A store or the ledger away: the rows stay pending (their locks rolled back) and the next pass tries again.
                Log.RequeuePassFailed(logger, error.Message, PollInterval.TotalSeconds);
            }

            try
            {
                await Task.Delay(PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Tries every pending row once, dead letters first; returns how many were tried.</summary>
    public async Task<int> RequeuePendingAsync(CancellationToken cancellationToken)
    {
        var tried = 0;
        while (await ledger.RequeueNextDeadLetterAsync(RetryBatchAsync, time.GetUtcNow(), cancellationToken))
        {
            tried++;
        }
        while (await ledger.RequeueNextRejectedAsync(RetryReadingAsync, time.GetUtcNow(), cancellationToken))
        {
            tried++;
        }
        return tried;
    }

    // Null when stored, else why not. Only what ProcessAsync would store is given to it: an unreadable message would be
    // dead-lettered again as a new row instead of failing this one.
    private async Task<string?> RetryBatchAsync(DeadLetterEntry row, CancellationToken cancellationToken)
    {
        var id = row.Id.ToString(CultureInfo.InvariantCulture);
        var failure = await TryBatchAsync(row, cancellationToken);
        if (failure is null)
        {
            Log.RequeueStored(logger, "dead letter", id, row.GatewayId);
        }
        else
        {
            Log.RequeueFailedAgain(logger, "dead letter", id, row.GatewayId, failure);
        }
        return failure;
    }

    private async Task<string?> TryBatchAsync(DeadLetterEntry row, CancellationToken cancellationToken)
    {
        if (!UplinkTopics.TryParse(row.Topic, out var topicGateway, out var kind) || kind != UplinkTopicKind.Telemetry)
        {
            return $"only telemetry batches can be requeued; this message arrived on '{row.Topic}'";
        }
        BatchHeader header;
        try
        {
            header = BatchCodec.Decode(row.Payload).Header;
        }
        catch (BatchFormatException error)
        {
            return $"still unreadable: {error.Message}";
        }
        if (!string.Equals(header.GatewayId, topicGateway, StringComparison.Ordinal))
        {
            return $"batch names gateway '{header.GatewayId}' but arrived on {row.Topic}";
        }

        try
        {
            await processor.ProcessAsync(row.Topic, row.Payload, isolateRefusals: false, cancellationToken);
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) == StoreFailureKind.Permanent)
        {
            // As the consumer does: the readings one by one, the refused ones recorded as rejected, the rest stored.
        }
        catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) == StoreFailureKind.Unknown)
        {
            return $"storing failed: {StoreFailures.Describe(error)}";
        }

        try
        {
            await processor.ProcessAsync(row.Topic, row.Payload, isolateRefusals: true, cancellationToken);
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) != StoreFailureKind.Transient)
        {
            return $"storing failed: {StoreFailures.Describe(error)}";
        }
    }

    private async Task<string?> RetryReadingAsync(RejectedEntry row, CancellationToken cancellationToken)
    {
        var id = row.Id.ToString();
        var failure = await TryReadingAsync(row, cancellationToken);
        if (failure is null)
        {
            Log.RequeueStored(logger, "rejected reading", id, row.GatewayId);
        }
        else
        {
            Log.RequeueFailedAgain(logger, "rejected reading", id, row.GatewayId, failure);
        }
        return failure;
    }

    private async Task<string?> TryReadingAsync(RejectedEntry row, CancellationToken cancellationToken)
    {
        var raw = row.Raw!;
        if (!SerialNumber.TryParse(row.Serial, out var serial, out var serialProblem))
        {
            return $"serial: {serialProblem}";
        }
        var validated = PayloadValidator.ValidateTelemetry(raw, serial);
        if (!validated.IsValid)
        {
            return validated.ErrorSummary();
        }

        // The ownership rules of a batch's reading: not this gateway's device = held in the quarantine, not stored.
        var verdicts = await ownership.CheckAsync(row.GatewayId, [serial.Value], cancellationToken);
        if (verdicts[0] is { } reason)
        {
            await quarantine.HoldAsync(
                [new QuarantinedReading(row.Id, row.GatewayId, serial.Value, reason, row.Epoch, row.Sequence, row.ReceivedAt, time.GetUtcNow(), Encoding.UTF8.GetString(raw))],
                cancellationToken);
            metrics.Quarantined(reason, 1);
            Log.RequeueQuarantined(logger, row.Id, serial.Value, row.GatewayId, reason);
            return null;
        }

        List<StoredReading> readings = [new(row.Id, ContentId.From(serial.Value, raw), row.GatewayId, row.Epoch, row.Sequence, serial, validated.Value!.Timestamp, row.ReceivedAt, false, raw, validated.Value)];
        BatchProcessor.Accepted accepted;
        try
        {
            accepted = await processor.AcceptAsync(readings, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) != StoreFailureKind.Transient)
        {
            return $"the {stores.For(serial.Kind).Name} store refused it: {StoreFailures.Describe(error)}";
        }

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
                // Live viewers miss a push; the reading is stored either way.
            }
        }
        return null;
    }
}
