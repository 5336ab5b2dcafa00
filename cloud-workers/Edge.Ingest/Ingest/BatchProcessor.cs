using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Ingest;
using Edge.Storage.Live;
using Edge.Storage.Quarantine;
using Edge.Storage.Registry;
using Npgsql;
using Microsoft.Extensions.Logging;

namespace Edge.Ingest.Ingest;

/// <summary>
/// One gateway batch, start to finish: decode, re-validate every reading (a gateway is never trusted), hold readings of
/// serials that are not the gateway's in the quarantine, classify lanes again, write each kind to its store
/// idempotently, record rejects, raise alerts, and say what to acknowledge. Nothing here assumes it
/// is the only worker: writes are insert-if-absent on the reading's deterministic id, alerts on theirs.
/// </summary>
internal sealed class BatchProcessor(
    StoreFactory stores,
    IngestLedger ledger,
    AlertRecorder alerts,
    GatewayPresence presence,
    RegistryOwnership ownership,
    QuarantineStore quarantine,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<BatchProcessor> logger)
{
    /// <summary>Returns the ack to publish, or null when the batch is unreadable down to its header (dead-lettered, nothing to ack).</summary>
    public Task<CommitAck?> ProcessAsync(string topic, ReadOnlyMemory<byte> wire, CancellationToken cancellationToken) =>
        ProcessAsync(topic, wire, isolateRefusals: false, cancellationToken);

    /// <summary>
    /// Like <see cref="ProcessAsync(string, ReadOnlyMemory{byte}, CancellationToken)"/>; with <paramref name="isolateRefusals"/>
    /// each reading is written on its own, and one a store refuses for good (<see cref="StoreFailureKind.Permanent"/>)
    /// is recorded as rejected with the store's reason while the rest of the batch is stored. For a batch whose
    /// all-at-once write failed permanently: one bad row must not hold the gateway's lane.
    /// </summary>
    public async Task<CommitAck?> ProcessAsync(string topic, ReadOnlyMemory<byte> wire, bool isolateRefusals, CancellationToken cancellationToken)
    {
        if (!UplinkTopics.TryParseGatewayId(topic, out var topicGateway))
        {
            await DeadLetterAsync("", topic, "not a gateway telemetry topic", wire, cancellationToken);
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
            await DeadLetterAsync(topicGateway, topic, ex.Message, wire, cancellationToken);
            // Ack a range only for the gateway the broker says sent it; anything else would misdirect the ack.
            return ex.Header is { } header && string.Equals(header.GatewayId, topicGateway, StringComparison.Ordinal)
                ? Ack(header, CommitAck.StatusDeadLettered, 0, 0, 0)
                : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The decoder's only refusal is BatchFormatException; anything else is a decoder bug, and the batch still
            // takes the bad-batch path (kept, logged, MQTT-acknowledged) instead of failing the message handler.
            Log.BatchDecodeFailed(logger, topicGateway, ex);
            await DeadLetterAsync(topicGateway, topic, $"the decoder failed ({ex.GetType().Name}: {ex.Message})", wire, cancellationToken);
            return null;
        }

        var h = batch.Header;
        if (!string.Equals(h.GatewayId, topicGateway, StringComparison.Ordinal))
        {
            var reason = $"batch names gateway '{h.GatewayId}' but arrived on {topic}";
            Log.BatchDeadLettered(logger, topicGateway, reason);
            await DeadLetterAsync(topicGateway, topic, reason, wire, cancellationToken);
            return null; // the ack would go to the wrong gateway
        }

        var received = time.GetUtcNow();
        var candidates = new List<StoredReading>(batch.Readings.Count);
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

            // The gateway's lane for now; AcceptAsync classifies again from the payload and its classification is stored.
            // The content id is the reading's own: a device's re-send journaled again under another sequence (its PUBACK
            // lost, the agent restarted) has the same one, and the stores keep it once.
            candidates.Add(new StoredReading(id, ContentId.From(serial.Value, reading.Payload.Span), h.GatewayId, h.Epoch, reading.Sequence, serial, validated.Value!.Timestamp, reading.ReceivedAt, h.Lane == BatchLanes.Urgent, reading.Payload, validated.Value));
        }

        // Only an active device registered to this (active) gateway is stored; anything else waits in the quarantine,
        // where no clinic sees it, until the registry says it is this gateway's (never trust a gateway).
        var owned = candidates;
        List<QuarantinedReading>? held = null;
        if (candidates.Count > 0)
        {
            var serials = new string[candidates.Count];
            for (var i = 0; i < serials.Length; i++)
            {
                serials[i] = candidates[i].Serial.Value;
            }

            var verdicts = await ownership.CheckAsync(h.GatewayId, serials, cancellationToken);
            if (Array.Exists(verdicts, v => v is not null))
            {
                owned = new List<StoredReading>(candidates.Count);
                held = [];
                for (var i = 0; i < verdicts.Length; i++)
                {
                    var c = candidates[i];
                    if (verdicts[i] is { } reason)
                    {
                        held.Add(new QuarantinedReading(c.Id, c.GatewayId, c.Serial.Value, reason, c.Epoch, c.Sequence, c.GatewayReceivedAt, received,
                            System.Text.Encoding.UTF8.GetString(c.RawJson.Span)));
                    }
                    else
                    {
                        owned.Add(c);
                    }
                }
            }
        }

        List<RejectedReading>? refused = null;
        Accepted accepted;
        if (isolateRefusals)
        {
            refused = [];
            (accepted, owned) = await AcceptEachAsync(owned, refused, cancellationToken);
        }
        else
        {
            accepted = await AcceptAsync(owned, cancellationToken);
        }

        if (held is not null)
        {
            await quarantine.HoldAsync(held, cancellationToken);
            Log.ReadingsQuarantined(logger, h.GatewayId, held.Count, held[0].Serial, held[0].Reason);
        }

        await AfterStoredAsync(h.GatewayId, accepted.Stored > 0 ? owned : null, cancellationToken);

        if (rejected.Count > 0)
        {
            Log.ReadingsRejected(logger, h.GatewayId, rejected.Count, rejected[0].Reason);
            await ledger.RecordRejectedAsync(rejected, cancellationToken);
        }

        if (refused is { Count: > 0 })
        {
            Log.ReadingsRefusedByStore(logger, h.GatewayId, refused.Count, refused[0].Reason);
            await ledger.RecordRejectedAsync(refused, cancellationToken);
        }

        if (accepted.Mismatches > 0)
        {
            Log.LaneMismatch(logger, h.GatewayId, accepted.Mismatches, h.Lane, accepted.FirstMismatch!);
        }

        // Counted when the whole batch is done: an attempt that fails part way and is retried counts nothing itself.
        CountReadings(h.Lane, accepted, rejected, held, owned, refused);
        // Quarantined readings are acknowledged with the rejected ones: the cloud holds them safely (the quarantine),
        // sending them again cannot change the answer, and a gateway that kept them would block its lane.
        var quarantined = held?.Count ?? 0;
        return Ack(h, CommitAck.StatusStored, accepted.Stored, owned.Count - accepted.Stored, rejected.Count + (refused?.Count ?? 0) + quarantined);
    }

    /// <summary>What <see cref="AcceptAsync"/> did: new rows per store kind, and readings whose gateway lane was not the worker's.</summary>
    internal sealed record Accepted(int Stored, List<(string Kind, int Stored, int Duplicates)> PerKind, int Mismatches, string? FirstMismatch);

    /// <summary>
    /// Everything a reading the cloud accepts goes through, from a gateway's batch or released from the quarantine:
    /// its lane classified again from the payload with the device's thresholds (<see cref="LaneRules"/>, the agent's
    /// rule), an idempotent write to its kind's store, then its alerts. Replaces <paramref name="readings"/>' items
    /// whose urgency the worker sees otherwise.
    /// </summary>
    internal async Task<Accepted> AcceptAsync(List<StoredReading> readings, CancellationToken cancellationToken)
    {
        if (readings.Count == 0)
        {
            return new Accepted(0, [], 0, null);
        }

        var thresholds = await alerts.ThresholdsAsync(readings, cancellationToken);
        var mismatches = 0;
        string? firstMismatch = null;
        var byStore = new Dictionary<IReadingStore, List<StoredReading>>();
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i];
            var t = thresholds[i];
            var urgent = LaneRules.IsUrgent(reading.Reading, new CpapLaneThresholds(t.CpapLeakThreshold, t.CpapRrLow, t.CpapRrHigh));
            if (urgent != reading.Urgent)
            {
                mismatches++;
                firstMismatch ??= reading.Serial.Value;
                readings[i] = reading = reading with { Urgent = urgent };
            }

            var store = stores.For(reading.Serial.Kind);
            if (!byStore.TryGetValue(store, out var list))
            {
                byStore[store] = list = [];
            }
            list.Add(reading);
        }

        var stored = 0;
        var perKind = new List<(string Kind, int Stored, int Duplicates)>(byStore.Count);
        foreach (var (store, list) in byStore)
        {
            var written = await store.WriteAsync(list, cancellationToken);
            stored += written;
            perKind.Add((WorkerMetrics.KindName(list[0].Serial.Kind), written, list.Count - written));
        }

        // After the stores committed and before the ack: if this throws, the batch is not acknowledged and comes back,
        // and both steps repeat harmlessly (alert ids are deterministic, only new alerts queue webhook deliveries).
        await alerts.RecordAsync(readings, thresholds, cancellationToken);
        return new Accepted(stored, perKind, mismatches, firstMismatch);
    }

    /// <summary>
    /// Best effort, never a reason to withhold the ack: tells live viewers what was stored (one NOTIFY per batch with new
    /// readings), keeps each device's newest reading time for its presence, and marks the gateway seen. All are conveniences; the readings are safe either way.
    /// </summary>
    private async Task AfterStoredAsync(string gatewayId, List<StoredReading>? newlyStored, CancellationToken cancellationToken)
    {
        try
        {
            if (newlyStored is not null)
            {
                var ranges = StoredReadingsNotice.RangesOf(newlyStored);
                await StoredReadingsNotice.NotifyAsync(stores.Registry, ranges, cancellationToken);
                await Edge.Storage.Fleet.LastReadings.TouchAsync(stores.Registry, ranges, cancellationToken);
            }
            await presence.TouchAsync(gatewayId, cancellationToken);
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            Log.AfterStoreFailed(logger, gatewayId, error);
        }
    }

    // Each reading written alone: the ones a store refuses for good are set aside with its reason, the others stored.
    private async Task<(Accepted Accepted, List<StoredReading> Stored)> AcceptEachAsync(List<StoredReading> readings, List<RejectedReading> refused, CancellationToken cancellationToken)
    {
        var stored = 0;
        var mismatches = 0;
        string? firstMismatch = null;
        var perKind = new Dictionary<string, (int Stored, int Duplicates)>();
        var kept = new List<StoredReading>(readings.Count);
        foreach (var reading in readings)
        {
            List<StoredReading> one = [reading];
            Accepted accepted;
            try
            {
                accepted = await AcceptAsync(one, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) == StoreFailureKind.Permanent)
            {
                refused.Add(new RejectedReading(reading.Id, reading.GatewayId, reading.Epoch, reading.Sequence, reading.Serial.Value,
                    $"the {stores.For(reading.Serial.Kind).Name} store refused it: {StoreFailures.Describe(error)}", reading.RawJson, reading.GatewayReceivedAt));
                continue;
            }

            kept.Add(one[0]); // with the lane AcceptAsync classified
            stored += accepted.Stored;
            mismatches += accepted.Mismatches;
            firstMismatch ??= accepted.FirstMismatch;
            foreach (var (kind, written, duplicates) in accepted.PerKind)
            {
                var sum = perKind.GetValueOrDefault(kind);
                perKind[kind] = (sum.Stored + written, sum.Duplicates + duplicates);
            }
        }

        return (new Accepted(stored, [.. perKind.Select(k => (k.Key, k.Value.Stored, k.Value.Duplicates))], mismatches, firstMismatch), kept);
    }

    /// <summary>
    /// The last resort for a batch no retry could store (an unknown error that kept failing): the whole message goes to
    /// <c>ingest_dead_letters</c> with the reason, where it can be requeued after a fix, and the gateway is told it is
    /// dead-lettered so its lane moves on. Returns the ack, or null when the message names no range of this gateway.
    /// </summary>
    public async Task<CommitAck?> DeadLetterBatchAsync(string topic, ReadOnlyMemory<byte> wire, string reason, CancellationToken cancellationToken)
    {
        var gatewayId = UplinkTopics.TryParseGatewayId(topic, out var parsed) ? parsed : "";
        Log.BatchDeadLettered(logger, gatewayId, reason);
        await DeadLetterAsync(gatewayId, topic, reason, wire, cancellationToken);
        try
        {
            var header = BatchCodec.Decode(wire).Header;
            return string.Equals(header.GatewayId, gatewayId, StringComparison.Ordinal) ? Ack(header, CommitAck.StatusDeadLettered, 0, 0, 0) : null;
        }
        catch (BatchFormatException)
        {
            return null;
        }
    }

    /// <summary>Keeps a gateway message other than a batch (events, report records) that no retry could handle.</summary>
    public Task DeadLetterMessageAsync(string gatewayId, string topic, string reason, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        DeadLetterAsync(gatewayId, topic, reason, payload, cancellationToken);

    private static string KindOf(string serial) => SerialNumber.TryParse(serial, out var parsed, out _) ? WorkerMetrics.KindName(parsed.Kind) : "unknown";

    private async Task DeadLetterAsync(string gatewayId, string topic, string reason, ReadOnlyMemory<byte> wire, CancellationToken cancellationToken)
    {
        await ledger.RecordDeadLetterAsync(new DeadLetter(time.GetUtcNow(), gatewayId, topic, reason, wire), cancellationToken);
        metrics.DeadLettered();
    }

    private void CountReadings(string lane, Accepted accepted, List<RejectedReading> rejected, List<QuarantinedReading>? held, List<StoredReading> owned, List<RejectedReading>? refused)
    {
        foreach (var reading in refused ?? [])
        {
            metrics.Readings(KindOf(reading.Serial), WorkerMetrics.StoreRefused, 1);
        }

        foreach (var (kind, written, duplicates) in accepted.PerKind)
        {
            metrics.Readings(kind, WorkerMetrics.Stored, written);
            metrics.Readings(kind, WorkerMetrics.Duplicate, duplicates);
        }

        foreach (var group in rejected.GroupBy(r => KindOf(r.Serial)))
        {
            metrics.Readings(group.Key, WorkerMetrics.Rejected, group.Count());
        }

        foreach (var group in held?.GroupBy(r => r.Reason) ?? [])
        {
            metrics.Quarantined(group.Key, group.Count());
        }

        metrics.LaneMismatch(lane, accepted.Mismatches);
        var now = time.GetUtcNow();
        foreach (var reading in owned)
        {
            // The worker's lane, not the gateway's: a gateway cannot make routine data look like late alarms, or hide one.
            metrics.ReadingDelay(reading.Urgent ? BatchLanes.Urgent : BatchLanes.Routine, now - reading.GatewayReceivedAt);
        }
    }

    private static CommitAck Ack(BatchHeader h, string status, int stored, int duplicates, int rejected) =>
        new(h.GatewayId, h.Epoch, h.Lane, h.FirstSequence, h.LastSequence, status, stored, duplicates, rejected);
}
