using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using Edge.Ingest.Metrics;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Ingest;
using Edge.Storage.Live;
using Edge.Storage.Registry;
using Npgsql;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Ingest;

/// <summary>
/// One gateway batch, start to finish: decode, re-validate every reading (a gateway is never trusted), write each
/// kind to its store idempotently, record rejects, raise alerts, and say what to acknowledge. Nothing here assumes it
/// is the only worker: writes are insert-if-absent on the reading's deterministic id, alerts on theirs.
/// </summary>
public sealed class BatchProcessor(
    StoreFactory stores,
    IngestLedger ledger,
    AlertRecorder alerts,
    GatewayPresence presence,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<BatchProcessor> logger)
{
    /// <summary>Returns the ack to publish, or null when the batch is unreadable down to its header (dead-lettered, nothing to ack).</summary>
    public async Task<CommitAck?> ProcessAsync(string topic, ReadOnlyMemory<byte> wire, CancellationToken cancellationToken)
    {
        if (!UplinkTopics.TryParseGatewayId(topic, out var topicGateway))
        {
            await DeadLetterAsync("", topic, "not a gateway telemetry topic", wire, cancellationToken).ConfigureAwait(false);
            return null;
        }

        DecodedBatch batch;
        try
        {
            batch = BatchCodec.Decode(wire);
        }
        catch (BatchFormatException ex)
        {
            Log.BatchDeadLettered(logger, topicGateway, ex.Message);
            await DeadLetterAsync(topicGateway, topic, ex.Message, wire, cancellationToken).ConfigureAwait(false);
            // Ack a range only for the gateway the broker says sent it; anything else would misdirect the ack.
            return ex.Header is { } header && string.Equals(header.GatewayId, topicGateway, StringComparison.Ordinal)
                ? Ack(header, CommitAck.StatusDeadLettered, 0, 0, 0)
                : null;
        }

        var h = batch.Header;
        if (!string.Equals(h.GatewayId, topicGateway, StringComparison.Ordinal))
        {
            var reason = $"batch names gateway '{h.GatewayId}' but arrived on {topic}";
            Log.BatchDeadLettered(logger, topicGateway, reason);
            await DeadLetterAsync(topicGateway, topic, reason, wire, cancellationToken).ConfigureAwait(false);
            return null; // the ack would go to the wrong gateway
        }

        var urgent = h.Lane == "urgent";
        var byStore = new Dictionary<IReadingStore, List<StoredReading>>();
        var rejected = new List<RejectedReading>();
        foreach (var reading in batch.Readings)
        {
            var id = ReadingId.From(h.GatewayId, h.Epoch, reading.Sequence);
            if (!SerialNumber.TryParse(reading.Serial, out var serial, out var serialProblem))
            {
                rejected.Add(new RejectedReading(id, h.GatewayId, h.Epoch, reading.Sequence, reading.Serial, $"serial: {serialProblem}", reading.Payload, reading.ReceivedAt));
                continue;
            }

            var validated = PayloadValidator.ValidateTelemetry(reading.Payload.Span, serial);
            if (!validated.IsValid)
            {
                rejected.Add(new RejectedReading(id, h.GatewayId, h.Epoch, reading.Sequence, reading.Serial, validated.ErrorSummary(), reading.Payload, reading.ReceivedAt));
                continue;
            }

            var store = stores.For(serial.Kind);
            if (!byStore.TryGetValue(store, out var list))
            {
                byStore[store] = list = [];
            }

            list.Add(new StoredReading(id, h.GatewayId, h.Epoch, reading.Sequence, serial, validated.Value!.Timestamp, reading.ReceivedAt, urgent, reading.Payload, validated.Value));
        }

        var stored = 0;
        var valid = 0;
        List<StoredReading>? all = null;
        var newPerKind = new List<(string Kind, int Stored, int Duplicates)>();
        foreach (var (store, readings) in byStore)
        {
            var written = await store.WriteAsync(readings, cancellationToken).ConfigureAwait(false);
            stored += written;
            valid += readings.Count;
            newPerKind.Add((WorkerMetrics.KindName(readings[0].Serial.Kind), written, readings.Count - written));
            all = all is null ? readings : [.. all, .. readings];
        }

        // After the stores committed and before the ack: if this throws, the batch is not acknowledged and comes back,
        // and both steps repeat harmlessly (alert ids are deterministic, only new alerts queue webhook deliveries).
        if (all is not null)
        {
            await alerts.RecordAsync(all, cancellationToken).ConfigureAwait(false);
        }

        await AfterStoredAsync(h.GatewayId, stored > 0 ? all : null, cancellationToken).ConfigureAwait(false);

        if (rejected.Count > 0)
        {
            Log.ReadingsRejected(logger, h.GatewayId, rejected.Count, rejected[0].Reason);
            await ledger.RecordRejectedAsync(rejected, cancellationToken).ConfigureAwait(false);
        }

        // Counted when the whole batch is done: an attempt that fails part way and is retried counts nothing itself.
        CountReadings(h.Lane, newPerKind, rejected, all);
        return Ack(h, CommitAck.StatusStored, stored, valid - stored, rejected.Count);
    }

    /// <summary>
    /// Best effort, never a reason to withhold the ack: tells live viewers what was stored (one NOTIFY per batch with new
    /// readings) and marks the gateway seen. Both are conveniences; the readings are safe either way.
    /// </summary>
    private async Task AfterStoredAsync(string gatewayId, List<StoredReading>? newlyStored, CancellationToken cancellationToken)
    {
        try
        {
            if (newlyStored is not null)
            {
                await StoredReadingsNotice.NotifyAsync(stores.Registry, StoredReadingsNotice.RangesOf(newlyStored), cancellationToken).ConfigureAwait(false);
            }
            await presence.TouchAsync(gatewayId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            Log.AfterStoreFailed(logger, gatewayId, error);
        }
    }

    private async Task DeadLetterAsync(string gatewayId, string topic, string reason, ReadOnlyMemory<byte> wire, CancellationToken cancellationToken)
    {
        await ledger.RecordDeadLetterAsync(new DeadLetter(time.GetUtcNow(), gatewayId, topic, reason, wire), cancellationToken).ConfigureAwait(false);
        metrics.DeadLettered();
    }

    private void CountReadings(string lane, List<(string Kind, int Stored, int Duplicates)> perKind, List<RejectedReading> rejected, List<StoredReading>? valid)
    {
        foreach (var (kind, written, duplicates) in perKind)
        {
            metrics.Readings(kind, WorkerMetrics.Stored, written);
            metrics.Readings(kind, WorkerMetrics.Duplicate, duplicates);
        }

        foreach (var group in rejected.GroupBy(r => SerialNumber.TryParse(r.Serial, out var serial, out _) ? WorkerMetrics.KindName(serial.Kind) : "unknown"))
        {
            metrics.Readings(group.Key, WorkerMetrics.Rejected, group.Count());
        }

        var now = time.GetUtcNow();
        foreach (var reading in valid ?? [])
        {
            metrics.ReadingDelay(lane, now - reading.GatewayReceivedAt);
        }
    }

    private static CommitAck Ack(BatchHeader h, string status, int stored, int duplicates, int rejected) =>
        new(h.GatewayId, h.Epoch, h.Lane, h.FirstSequence, h.LastSequence, status, stored, duplicates, rejected);
}
