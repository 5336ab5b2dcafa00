namespace Edge.Contracts.Uplink;

/// <summary>
/// A worker's answer on <c>edge/v1/{gatewayId}/ack</c> once a batch is in the store: the gateway deletes the named
/// sequence range from its journal only after receiving it.
/// </summary>
/// <param name="GatewayId">The gateway the batch came from (also the topic's).</param>
/// <param name="Epoch">The batch's journal epoch.</param>
/// <param name="Lane">The batch's lane.</param>
/// <param name="FirstSequence">The batch's first sequence.</param>
/// <param name="LastSequence">The batch's last sequence: the gateway may delete first..last of this epoch and lane.</param>
/// <param name="Status"><see cref="StatusStored"/> or <see cref="StatusDeadLettered"/>.</param>
/// <param name="Stored">Readings written now.</param>
/// <param name="Duplicates">Readings the store already had (a re-sent batch); they count as stored.</param>
/// <param name="Rejected">Readings that failed re-validation and were dead-lettered in the cloud.</param>
public sealed record CommitAck(
    string GatewayId,
    long Epoch,
    string Lane,
    long FirstSequence,
    long LastSequence,
    string Status,
    int Stored,
    int Duplicates,
    int Rejected)
{
    /// <summary>Every reading of the range is durably stored, as new rows, duplicates or cloud dead letters.</summary>
    public const string StatusStored = "stored";

    /// <summary>The batch as a whole could not be stored (it failed to decode after its header) and was kept as a dead letter.</summary>
    public const string StatusDeadLettered = "dead-lettered";
}
