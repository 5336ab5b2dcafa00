using Edge.Agent.Journal;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Uplink;

/// <summary>
/// Moves the journal to the cloud: reads each lane in sequence order (urgent first, routine guaranteed a share),
/// packs compressed batches under the broker's size limit, publishes them through the connection's pacing budget (urgent
/// first), keeps at most
/// <see cref="UplinkOptions.MaxInFlightBatches"/> unacknowledged, and deletes a batch's readings from the journal
/// only when a worker's commit ack arrives. A broker PUBACK deletes nothing. Unacknowledged batches are re-sent
/// after a timeout that doubles per attempt, and after every reconnect. An ack is honoured only for readings this
/// epoch has published (the journal's durable published mark, raised before each new batch leaves); any other ack is
/// refused, logged and counted, and deletes nothing.
/// </summary>
internal sealed class BatchSender(
    ReadingJournal journal,
    UplinkConnection connection,
    UplinkState state,
    IOptions<UplinkOptions> options,
    TimeProvider time,
    ILogger<BatchSender> logger)
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxAckTimeout = TimeSpan.FromMinutes(2);

    private readonly UplinkOptions _options = options.Value;
    private readonly List<InFlightBatch> _inFlight = [];
    private readonly long[] _cursor = new long[2];
    private int _urgentStreak;

    /// <summary>Runs the connection supervisor and the send loop until stopped.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var supervisor = connection.RunAsync(stoppingToken);
        try
        {
            await SendLoopAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: in-flight batches stay in the journal and are re-sent after the restart.
        }

        try
        {
            await supervisor;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var wasConnected = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            await ApplyAcksAsync();
            if (!connection.IsConnected)
            {
                wasConnected = false;
                state.Update(connected: false, _inFlight.Count);
                await connection.WaitConnectedAsync(stoppingToken);
                continue;
            }

            try
            {
                if (!wasConnected)
                {
                    // Whatever the broker had not acknowledged before the link dropped is lost in transit: send again.
                    wasConnected = true;
                    foreach (var batch in _inFlight.Where(b => !b.BrokerAcknowledged))
                    {
                        await PublishAsync(batch, resend: true, stoppingToken);
                    }
                }

                await ResendTimedOutAsync(stoppingToken);
                while (_inFlight.Count < _options.MaxInFlightBatches && await NextBatchAsync() is { } batch)
                {
                    _inFlight.Add(batch);
                    await PublishAsync(batch, resend: false, stoppingToken);
                    await ApplyAcksAsync();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The link dropped mid-publish (or the publish timed out): the supervisor reconnects, we re-send.
                Log.UplinkPublishFailed(logger, ex.Message);
                wasConnected = false;
            }

            state.Update(connection.IsConnected, _inFlight.Count);
            await connection.WaitForActivityAsync(NextWake(), stoppingToken);
        }
    }

    // Urgent first; after UrgentBurst urgent batches in a row, routine goes next if it has anything waiting.
    private async Task<InFlightBatch?> NextBatchAsync()
    {
        var preferRoutine = _urgentStreak >= _options.UrgentBurst;
        Lane[] order = preferRoutine ? [Lane.Routine, Lane.Urgent] : [Lane.Urgent, Lane.Routine];
        foreach (var lane in order)
        {
            var entries = journal.Read(lane, _cursor[(int)lane], _options.MaxReadingsPerBatch);
            if (entries.Count == 0 && _cursor[(int)lane] > 0 && !_inFlight.Any(b => b.Lane == lane) && journal.Snapshot.EntriesPerLane[(int)lane] > 0)
            {
                // Invariant: a reading in the journal and not in flight must be sent. Readings behind the cursor with
                // nothing in flight break it, so start the lane again from its head (the stores ignore re-sends).
                var cursor = _cursor[(int)lane];
                _cursor[(int)lane] = 0;
                entries = journal.Read(lane, 0, _options.MaxReadingsPerBatch);
                var behind = string.Join(", ", entries.Take(10).Select(e => e.Sequence));
                Log.UplinkCursorReset(logger, Lanes.Name(lane), cursor, journal.Snapshot.EntriesPerLane[(int)lane], behind);
            }

            if (entries.Count == 0)
            {
                continue;
            }

            var readings = new BatchReading[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                readings[i] = new BatchReading(e.Sequence, e.Serial, e.ReceivedAt, e.Payload);
            }

            EncodedBatch encoded;
            try
            {
                encoded = BatchCodec.Encode(journal.GatewayId, journal.Epoch, Lanes.Name(lane), readings, _options.MaxBatchBytes);
            }
            catch (ReadingTooLargeException tooLarge)
            {
                // Sending it again can never succeed: set it aside where a technician looks, and let the lane move on.
                await SetAsideAsync(lane, entries[0], tooLarge);
                return await NextBatchAsync();
            }

            var header = encoded.Header;
            _cursor[(int)lane] = header.LastSequence;
            _urgentStreak = lane == Lane.Urgent ? _urgentStreak + 1 : 0;
            return new InFlightBatch(lane, header.FirstSequence, header.LastSequence, encoded.Bytes, TimeSpan.FromSeconds(_options.AckTimeoutSeconds));
        }

        _urgentStreak = 0;
        return null;
    }

    // A reading journaled under settings that let it through (a larger Agent:Broker:MaxPayloadBytes before a restart)
    // that no batch can carry now. The start-up check keeps new readings from getting here.
    private async Task SetAsideAsync(Lane lane, JournalEntry entry, ReadingTooLargeException tooLarge)
    {
        var reason = $"the reading needs {tooLarge.WireBytes} bytes in a batch, above Agent:Uplink:MaxBatchBytes ({tooLarge.MaxWireBytes})";
        journal.AddDeadLetter(new DeadLetter(time.GetUtcNow(), entry.Serial, Contracts.Topics.DeviceTopics.Telemetry(entry.Serial), UplinkMessageTooLargeException.DeadLetterCode, reason, entry.Payload));
        await journal.DeleteRangeAsync(lane, entry.Sequence, entry.Sequence);
        _cursor[(int)lane] = Math.Max(_cursor[(int)lane], entry.Sequence);
        state.RecordDropped(DropReasons.TooLargeForUplink, 1);
        Log.UplinkReadingTooLarge(logger, Lanes.Name(lane), entry.Sequence, entry.Serial, reason);
    }

    private async Task PublishAsync(InFlightBatch batch, bool resend, CancellationToken cancellationToken)
    {
        if (batch.Last > journal.PublishedThrough(batch.Lane))
        {
            // Durable before the batch leaves: its ack may come back after a restart, and must still be honoured.
            await journal.MarkPublishedAsync(batch.Lane, batch.Last);
        }

        batch.BrokerAcknowledged = false;
        var priority = batch.Lane == Lane.Urgent ? UplinkPriority.Urgent : UplinkPriority.Normal;
        await connection.PublishAsync(UplinkTopics.Telemetry(journal.GatewayId), batch.Wire, priority, cancellationToken);
        batch.SentAt = time.GetUtcNow();
        batch.BrokerAcknowledged = true;
        state.RecordSent(resend);
    }

    private async Task ResendTimedOutAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var batch in _inFlight.Where(b => b.BrokerAcknowledged && now - b.SentAt >= b.AckTimeout).ToList())
        {
            Log.UplinkAckTimeout(logger, Lanes.Name(batch.Lane), batch.First, batch.Last, batch.AckTimeout.TotalSeconds);
            batch.AckTimeout = TimeSpan.FromTicks(Math.Min(batch.AckTimeout.Ticks * 2, MaxAckTimeout.Ticks));
            await PublishAsync(batch, resend: true, cancellationToken);
        }
    }

    // An ack need not match a batch in flight: acks queued in our persistent session from before a restart still name
    // readings that are safely stored. But it must name only readings this epoch published: an ack over readings that
    // never left the gateway (forged, or from a confused worker) would delete data the cloud cannot have.
    private async Task ApplyAcksAsync()
    {
        while (connection.TryTakeAck(out var ack))
        {
            if (Refusal(ack, out var lane) is { } refusal)
            {
                Log.UplinkAckRefused(logger, ack.Lane, ack.FirstSequence, ack.LastSequence, ack.Epoch, refusal.Reason);
                state.RecordAckRefused(refusal.Label);
                continue;
            }

            var removed = await journal.DeleteRangeAsync(lane, ack.FirstSequence, ack.LastSequence);
            _inFlight.RemoveAll(b => b.Lane == lane && b.First >= ack.FirstSequence && b.Last <= ack.LastSequence);

            // An ack means the cloud is storing again: batches whose timeouts grew during the outage go back to the
            // base timeout, so one lost on the way is re-sent in seconds rather than minutes.
            var baseTimeout = TimeSpan.FromSeconds(_options.AckTimeoutSeconds);
            foreach (var batch in _inFlight)
            {
                batch.AckTimeout = baseTimeout;
            }
            state.RecordAck(removed, ack.Status == CommitAck.StatusDeadLettered);
            if (ack.Status == CommitAck.StatusDeadLettered)
            {
                state.RecordDropped(DropReasons.DeadLetteredInCloud, removed);
                Log.UplinkBatchDeadLettered(logger, ack.Lane, ack.FirstSequence, ack.LastSequence);
            }
        }
    }

    private TimeSpan NextWake()
    {
        if (_inFlight.Count == 0)
        {
            return IdlePoll;
        }

        var now = time.GetUtcNow();
        var soonest = _inFlight.Min(b => b.SentAt + b.AckTimeout - now);
        return soonest < IdlePoll ? (soonest > TimeSpan.Zero ? soonest : TimeSpan.FromMilliseconds(1)) : IdlePoll;
    }

    private (string Label, string Reason)? Refusal(CommitAck ack, out Lane lane)
    {
        if (!TryParseLane(ack.Lane, out lane))
        {
            return (AckRefusals.Lane, "lane must be urgent or routine");
        }

        if (ack.Epoch != journal.Epoch)
        {
            return (AckRefusals.Epoch, $"epoch is not this journal's ({journal.Epoch})");
        }

        var published = journal.PublishedThrough(lane);
        if (ack.FirstSequence < 1 || ack.FirstSequence > ack.LastSequence || ack.LastSequence > published)
        {
            return (AckRefusals.Unpublished, $"firstSequence..lastSequence must be a range within 1..{published}, the {ack.Lane} readings published in this epoch");
        }

        return null;
    }

    private static bool TryParseLane(string name, out Lane lane)
    {
        lane = name == "urgent" ? Lane.Urgent : Lane.Routine;
        return name is "urgent" or "routine";
    }

    private sealed class InFlightBatch(Lane lane, long first, long last, byte[] wire, TimeSpan ackTimeout)
    {
        public Lane Lane { get; } = lane;

        public long First { get; } = first;

        public long Last { get; } = last;

        public byte[] Wire { get; } = wire;

        public TimeSpan AckTimeout { get; set; } = ackTimeout;

        public DateTimeOffset SentAt { get; set; }

        public bool BrokerAcknowledged { get; set; }
    }
}
