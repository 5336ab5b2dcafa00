namespace Edge.Agent.Journal;

/// <summary>
/// What the uplink has published, per lane: the highest sequence of any batch sent in this epoch. A commit ack is a
/// licence to delete readings, so the uplink honours one only for readings at or below this mark: readings above it
/// never left the gateway and cannot be stored anywhere. The mark is durable (same group commit and sync as readings)
/// because acks for batches sent before a restart arrive after it, from the broker's persistent session, and must
/// still delete what they name. Sequences only grow and a lane is sent in order, so one number per lane holds every
/// range published: everything of the lane at or below it went out at least once.
/// </summary>
internal sealed partial class ReadingJournal
{
    /// <summary>
    /// Raises the lane's published mark to <paramref name="lastSequence"/> (never lowers it); completes once the mark is
    /// committed and synced, so the caller publishes only batches whose acks a restart will still honour.
    /// </summary>
    public Task MarkPublishedAsync(Lane lane, long lastSequence)
    {
        var op = new PublishedOp(lane, lastSequence);
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        return op.Completion.Task;
    }

    /// <summary>The lane's published mark as of the last commit.</summary>
    public long PublishedThrough(Lane lane) => _snapshot.PublishedPerLane[(int)lane];

    // Runs inside the group's transaction on the writer thread (CommitGroupLocked); the meta document carries it.
    private void ApplyPublished(PublishedOp op)
    {
        var lane = (int)op.Lane;
        _state.Published[lane] = Math.Max(_state.Published[lane], Math.Min(op.LastSequence, _state.LastSequence));
    }

    private sealed class PublishedOp(Lane lane, long lastSequence) : WriteOp
    {
        public Lane Lane { get; } = lane;

        public long LastSequence { get; } = lastSequence;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete() => Completion.TrySetResult();

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
