using System.Buffers;
using System.Diagnostics;
using Edge.Agent.Broker;
using Edge.Agent.Journal;
using Edge.Agent.Reports;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Edge.Contracts.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Edge.Agent.Ingest;

/// <summary>
/// Handles every PUBLISH a device sends. MQTTnet awaits this before it sends the PUBACK, so a reading is
/// acknowledged only once the journal has committed and synced it. Refusals carry an MQTT 5 reason code and
/// a reason string; bad input is dead-lettered and never stops the broker.
/// </summary>
internal sealed class IngestPipeline(
    ReadingJournal journal,
    Downlink.DeviceReplies replies,
    LaneClassifier lanes,
    IngestMetrics counters,
    ReportIngest reports,
    RefusalLimiter refusals,
    Clock.DeviceClocks clocks,
    IOptions<BrokerOptions> brokerOptions,
    TimeProvider time,
    ILogger<IngestPipeline> logger)
{
    private readonly PayloadLimits _limits = new(brokerOptions.Value.MaxPayloadBytes);

    public async Task HandleAsync(InterceptingPublishEventArgs args)
    {
        try
        {
            await HandlePublishAsync(args);
        }
        catch (OperationCanceledException)
        {
            throw; // the connection (or the agent) is going away; MQTTnet sends nothing, the device re-sends
        }
        catch (Exception ex)
        {
            // A bug such as a parser that throws must not end the connection with no reason code: a device that
            // re-sends the message after reconnecting would be stuck on it. Refuse it for good and keep it for a look.
            Log.PublishFailed(logger, args.ApplicationMessage.Topic ?? "", args.ClientId, ex);
            Refuse(args, MqttPubAckReasonCode.PayloadFormatInvalid,
                $"the gateway failed to process this message ({ex.GetType().Name}); it was kept as a dead letter", deadLetter: true);
        }
    }

    private async Task HandlePublishAsync(InterceptingPublishEventArgs args)
    {
        // Messages the agent itself injects (retained config for devices) have no client and pass through.
        if (string.IsNullOrEmpty(args.ClientId))
        {
            return;
        }

        // Device messages are consumed here; no device may read another's telemetry through the broker.
        args.ProcessPublish = false;
        var topic = args.ApplicationMessage.Topic;
        if (args.SessionItems[SessionKeys.Serial] is not SerialNumber serial)
        {
            Refuse(args, MqttPubAckReasonCode.NotAuthorized, "the session has no authenticated device", deadLetter: true);
            return;
        }

        if (!DeviceTopics.TryParse(topic, out var topicSerial, out var kind, out var reportId))
        {
            Refuse(args, MqttPubAckReasonCode.TopicNameInvalid, $"'{topic}' is not a device topic (devices/{{serial}}/telemetry, …/status, …)", deadLetter: true);
            return;
        }

        if (!string.Equals(topicSerial, serial.Value, StringComparison.Ordinal))
        {
            Refuse(args, MqttPubAckReasonCode.NotAuthorized, $"{serial} may publish only under devices/{serial}/", deadLetter: true);
            return;
        }

        switch (kind)
        {
            case DeviceTopicKind.Telemetry:
                await IngestTelemetryAsync(args, serial);
                break;
            case DeviceTopicKind.Report:
                await IngestReportAsync(args, reports.IngestReportAsync(serial, Payload(args)));
                break;
            case DeviceTopicKind.ReportPdf or DeviceTopicKind.ReportPdfPart:
                await IngestReportAsync(args, reports.IngestPdfAsync(serial, topic, kind, reportId!, Payload(args)));
                break;
            case DeviceTopicKind.Status:
                // Online/offline (and the last will) say what the broker's connection events already told Presence.DevicePresence,
                // which reports it to the cloud; acknowledged and not stored.
                break;
            case DeviceTopicKind.ConfigAck:
                await ReplyAsync(args, replies.ConfigAckAsync);
                break;
            case DeviceTopicKind.FirmwareProgress:
                await ReplyAsync(args, replies.FirmwareProgressAsync);
                break;
            case DeviceTopicKind.Config or DeviceTopicKind.Firmware:
                Refuse(args, MqttPubAckReasonCode.NotAuthorized, $"'{topic}' is written by the agent, not by devices", deadLetter: true);
                break;
            default:
                Refuse(args, MqttPubAckReasonCode.TopicNameInvalid, $"'{topic}' is not handled by this agent version", deadLetter: true);
                break;
        }
    }

    private async Task ReplyAsync(InterceptingPublishEventArgs args, Func<string, ReadOnlyMemory<byte>, Task<string?>> record)
    {
        var serial = (SerialNumber)args.SessionItems[SessionKeys.Serial]!;
        var sequence = args.ApplicationMessage.Payload;
        ReadOnlyMemory<byte> payload = sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
        string? refusal;
        try
        {
            refusal = payload.Length > _limits.MaxBytes ? $"larger than {_limits.MaxBytes} bytes" : await record(serial.Value, payload);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.AppendFailed(logger, args.ApplicationMessage.Topic, ex);
            Refuse(args, MqttPubAckReasonCode.ImplementationSpecificError, "the gateway could not record the answer; retry later", deadLetter: false);
            return;
        }

        if (refusal is not null)
        {
            Refuse(args, MqttPubAckReasonCode.PayloadFormatInvalid, refusal, deadLetter: true);
        }
    }

    private async Task IngestTelemetryAsync(InterceptingPublishEventArgs args, SerialNumber serial)
    {
        var started = Stopwatch.GetTimestamp();
        var sequence = args.ApplicationMessage.Payload;
        ReadOnlyMemory<byte> payload = sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
        var validated = PayloadValidator.ValidateTelemetry(payload.Span, serial, _limits);
        if (!validated.IsValid)
        {
            Refuse(args, MqttPubAckReasonCode.PayloadFormatInvalid, validated.ErrorSummary(), deadLetter: true);
            return;
        }

        var reading = validated.Value!;
        if (clocks.Check(serial.Value, reading.Timestamp, time.GetUtcNow()) is { } tooFarAhead)
        {
            Refuse(args, MqttPubAckReasonCode.PayloadFormatInvalid, tooFarAhead, deadLetter: true);
            return;
        }

        var entry = new NewEntry(serial.Value, serial.Kind, lanes.Classify(reading), reading.Timestamp, payload);
        AppendResult result;
        try
        {
            result = await journal.AppendAsync(entry, args.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw; // the connection went away; MQTTnet sends nothing, the device re-sends
        }
        catch (Exception ex)
        {
            Log.AppendFailed(logger, args.ApplicationMessage.Topic, ex);
            Refuse(args, MqttPubAckReasonCode.ImplementationSpecificError, "the gateway could not store the reading; retry later", deadLetter: false);
            return;
        }

        switch (result.Outcome)
        {
            case AppendOutcome.Committed:
                counters.RecordAccepted(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                break;
            case AppendOutcome.Duplicate:
                counters.RecordDuplicate();
                break;
            case AppendOutcome.QuotaExceeded:
                // Back-pressure, not bad data: the device keeps the reading and retries, so it is not dead-lettered.
                Refuse(args, MqttPubAckReasonCode.QuotaExceeded, "the gateway journal is full of urgent readings; back off and retry", deadLetter: false);
                break;
        }
    }

    // Reports are journaled (JSON and PDF parts, never shed) before the PUBACK, like readings.
    private async Task IngestReportAsync(InterceptingPublishEventArgs args, Task<ReportRefusal?> ingest)
    {
        var started = Stopwatch.GetTimestamp();
        ReportRefusal? refusal;
        try
        {
            refusal = await ingest;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.AppendFailed(logger, args.ApplicationMessage.Topic, ex);
            Refuse(args, MqttPubAckReasonCode.ImplementationSpecificError, "the gateway could not store the report; retry later", deadLetter: false);
            return;
        }

        if (refusal is null)
        {
            counters.RecordAccepted(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return;
        }

        Refuse(args, refusal.Code, refusal.Reason, refusal.DeadLetter);
    }

    private static ReadOnlyMemory<byte> Payload(InterceptingPublishEventArgs args)
    {
        var sequence = args.ApplicationMessage.Payload;
        return sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
    }

    private void Refuse(InterceptingPublishEventArgs args, MqttPubAckReasonCode code, string reason, bool deadLetter)
    {
        var codeName = code.ToString();
        var topic = args.ApplicationMessage.Topic ?? "";
        counters.RecordRefused(codeName);
        Log.PublishRefused(logger, topic, args.ClientId, codeName, reason);
        args.Response.ReasonCode = code;
        args.Response.ReasonString = reason.Length <= 256 ? reason : reason[..256];

        // MQTT 3.1.1 has no negative PUBACK. A permanent refusal is acknowledged (re-sending cannot help and it is
        // dead-lettered); a transient one closes the connection so the device keeps the message and re-sends it.
        var transient = code is MqttPubAckReasonCode.QuotaExceeded or MqttPubAckReasonCode.ImplementationSpecificError;
        if (transient && args.SessionItems[SessionKeys.Protocol] is MqttProtocolVersion version && version != MqttProtocolVersion.V500)
        {
            args.CloseConnection = true;
        }

        if (deadLetter)
        {
            // Only the preview is copied: a refused 20 MiB publish must not cost 20 MiB more while it waits for the writer.
            var payload = args.ApplicationMessage.Payload;
            var preview = payload.Slice(0, Math.Min(payload.Length, ReadingJournal.DeadLetterPreviewBytes)).ToArray();
            journal.AddDeadLetter(new DeadLetter(time.GetUtcNow(), args.ClientId, topic, codeName, reason, preview), payloadBytes: (int)payload.Length);
        }

        // Refusals of what the device sent (not back-pressure) are counted; past the limit its connection is closed.
        if (!transient && refusals.Refused(args.ClientId))
        {
            args.CloseConnection = true;
        }
    }
}
