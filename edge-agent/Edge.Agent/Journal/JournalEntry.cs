using Edge.Contracts.Devices;

namespace Edge.Agent.Journal;

/// <summary>A reading to journal: what the ingest path hands to <see cref="ReadingJournal.AppendAsync"/>.</summary>
internal sealed record NewEntry(
    string Serial,
    DeviceKind Kind,
    Lane Lane,
    DateTimeOffset DeviceTime,
    ReadOnlyMemory<byte> Payload);

/// <summary>A journaled reading with its persisted identity (gateway id, epoch, sequence).</summary>
internal sealed record JournalEntry(
    long Sequence,
    string Serial,
    DeviceKind Kind,
    Lane Lane,
    DateTimeOffset DeviceTime,
    DateTimeOffset ReceivedAt,
    byte[] Payload);

/// <summary>The outcome of an append.</summary>
internal enum AppendOutcome
{
    /// <summary>Committed and synced; safe to acknowledge.</summary>
    Committed,

    /// <summary>The same reading was journaled already (a device re-sent it); safe to acknowledge.</summary>
    Duplicate,

    /// <summary>No room even after shedding routine readings; do not acknowledge.</summary>
    QuotaExceeded,
}

/// <summary>Result of an append: outcome and, when committed, the sequence number.</summary>
internal readonly record struct AppendResult(AppendOutcome Outcome, long Sequence);

/// <summary>A refused message kept for inspection.</summary>
internal sealed record DeadLetter(
    DateTimeOffset ReceivedAt,
    string ClientId,
    string Topic,
    string ReasonCode,
    string Reason,
    ReadOnlyMemory<byte> Payload);
