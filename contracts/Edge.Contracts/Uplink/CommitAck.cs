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
/// <param name="Rejected">Readings the cloud holds outside the stores: failed re-validation (dead-lettered), or not a device of this gateway (quarantined until the registry says otherwise).</param>
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
    /// <summary>Every reading of the range is durably in the cloud: new rows, duplicates, cloud dead letters or quarantined readings.</summary>
    public const string StatusStored = "stored";

    /// <summary>The batch as a whole could not be stored (it failed to decode after its header) and was kept as a dead letter.</summary>
    public const string StatusDeadLettered = "dead-lettered";
}
