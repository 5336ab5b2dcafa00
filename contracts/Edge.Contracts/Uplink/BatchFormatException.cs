namespace Edge.Contracts.Uplink;

/// <summary>A received batch is not a valid v1 batch; <see cref="Reason"/> names what is wrong.</summary>
public sealed class BatchFormatException : FormatException
{
    public BatchFormatException()
        : this("unspecified")
    {
    }

    public BatchFormatException(string reason)
        : this(reason, null)
    {
    }

    public BatchFormatException(string reason, Exception? innerException)
        : this(reason, innerException, null)
    {
    }

    public BatchFormatException(string reason, Exception? innerException, BatchHeader? header)
        : base($"Invalid uplink batch: {reason}", innerException)
    {
        Reason = reason;
        Header = header;
    }

    /// <summary>What is wrong, e.g. <c>count is 3 but 2 readings follow</c>.</summary>
    public string Reason { get; }

    /// <summary>
    /// The header the body declared, when all of it could be read and is well formed before the problem was found (a
    /// broken reading, a count that does not match); null when the envelope, the compression or the header itself is
    /// broken. A worker may acknowledge that range as dead-lettered, after checking that its gateway id is the topic's,
    /// so that the gateway stops re-sending a batch that can never be stored.
    /// </summary>
    public BatchHeader? Header { get; }
}
