using System.Text.Json;
using Edge.Contracts.Uplink;
using Edge.Storage.Ingest;

namespace Edge.Api.DeadLetters;

/// <summary>Where a row's requeue stands.</summary>
/// <param name="State">none (never asked), pending (a worker will try it within seconds) or failed (tried after the last request, still here).</param>
/// <param name="RequestedAt">When an admin last asked for it.</param>
/// <param name="AttemptedAt">When a worker last tried it after that request.</param>
/// <param name="Outcome">Why that try failed. A try that stores it removes the row, so a stored row is simply gone.</param>
internal sealed record RequeueInfo(string State, DateTimeOffset? RequestedAt, DateTimeOffset? AttemptedAt, string? Outcome)
{
    public static RequeueInfo From(RequeueState state) => new(state.State, state.RequestedAt, state.AttemptedAt, state.Outcome);
}

/// <summary>A whole gateway message the ingest worker could not read or store (<c>ingest_dead_letters</c>), without its payload.</summary>
/// <param name="Id">The row id.</param>
/// <param name="ReceivedAt">When the worker received it (the cloud's clock).</param>
/// <param name="GatewayId">The gateway its topic names; empty when the topic was not a gateway's.</param>
/// <param name="Topic">The topic it arrived on.</param>
/// <param name="Reason">Why it was dead-lettered, or why the last requeue failed.</param>
/// <param name="PayloadBytes">The size of the message as received.</param>
internal sealed record DeadLetterItem(
    long Id, DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, int PayloadBytes, RequeueInfo Requeue)
{
    public static DeadLetterItem From(DeadLetterEntry e) => new(e.Id, e.ReceivedAt, e.GatewayId, e.Topic, e.Reason, e.PayloadBytes, RequeueInfo.From(e.Requeue));
}

/// <summary>One dead letter with its message: decoded when it is a readable batch, else the bytes as base64.</summary>
/// <param name="Batch">The batch's header and readings, when <c>BatchCodec</c> can read it; null otherwise.</param>
/// <param name="PayloadBase64">The message exactly as received, when it is not a readable batch; null otherwise.</param>
internal sealed record DeadLetterDetail(
    long Id, DateTimeOffset ReceivedAt, string GatewayId, string Topic, string Reason, int PayloadBytes, RequeueInfo Requeue,
    DeadLetterBatch? Batch, string? PayloadBase64);

/// <summary>A dead-lettered batch as decoded.</summary>
internal sealed record DeadLetterBatch(BatchHeader Header, IReadOnlyList<DeadLetterReading> Readings);

/// <summary>One reading of a dead-lettered batch; <see cref="Payload"/> is the device's JSON, or null with the bytes in <see cref="PayloadBase64"/> when they are not JSON.</summary>
internal sealed record DeadLetterReading(long Seq, string Serial, DateTimeOffset ReceivedAt, JsonElement? Payload, string? PayloadBase64);

/// <summary>A single reading the cloud did not store (<c>rejected_readings</c>): it failed re-validation, or its store refused it for good.</summary>
/// <param name="Id">The reading id it will have in its store if a requeue stores it.</param>
/// <param name="Serial">The serial as sent (text: it may be why it was rejected).</param>
/// <param name="Reason">The validator's or the store's reason, or why the last requeue failed.</param>
/// <param name="ReceivedAt">When the gateway received it (the gateway's clock).</param>
/// <param name="PayloadBytes">The size of the device's payload.</param>
internal sealed record RejectedReadingItem(
    Guid Id, string GatewayId, long Epoch, long Seq, string Serial, string Reason, DateTimeOffset ReceivedAt, int PayloadBytes, RequeueInfo Requeue)
{
    public static RejectedReadingItem From(RejectedEntry e) =>
        new(e.Id, e.GatewayId, e.Epoch, e.Sequence, e.Serial, e.Reason, e.ReceivedAt, e.RawBytes, RequeueInfo.From(e.Requeue));
}

/// <summary>One rejected reading with the device's payload: as JSON when it is JSON, else the bytes as base64.</summary>
internal sealed record RejectedReadingDetail(
    Guid Id, string GatewayId, long Epoch, long Seq, string Serial, string Reason, DateTimeOffset ReceivedAt, int PayloadBytes, RequeueInfo Requeue,
    JsonElement? Payload, string? PayloadBase64);

/// <summary>Device payloads as the API shows them: parsed JSON when they are JSON, else base64 of the bytes.</summary>
internal static class PayloadView
{
    public static (JsonElement? Json, string? Base64) Of(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException)
        {
            return (null, Convert.ToBase64String(bytes.Span));
        }
    }
}
