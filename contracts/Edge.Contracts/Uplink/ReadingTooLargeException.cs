namespace Edge.Contracts.Uplink;

/// <summary>The first reading handed to <see cref="BatchCodec.Encode"/> does not fit the wire limit even alone, so it can never be sent in a batch.</summary>
public sealed class ReadingTooLargeException : ArgumentException
{
    public ReadingTooLargeException()
        : this("A reading does not fit the batch wire limit on its own.")
    {
    }

    public ReadingTooLargeException(string message)
        : base(message)
    {
    }

    public ReadingTooLargeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ReadingTooLargeException(long sequence, int wireBytes, int maxWireBytes)
        : base($"Reading {sequence} alone encodes to {wireBytes} bytes on the wire, more than the {maxWireBytes} allowed: it cannot be sent in any batch.", "readings")
    {
        Sequence = sequence;
        WireBytes = wireBytes;
        MaxWireBytes = maxWireBytes;
    }

    /// <summary>The journal sequence of the reading that does not fit.</summary>
    public long Sequence { get; }

    /// <summary>Its smallest wire size, envelope included.</summary>
    public int WireBytes { get; }

    public int MaxWireBytes { get; }
}
