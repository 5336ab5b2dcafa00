namespace Edge.Agent.Uplink;

/// <summary>
/// A message above <see cref="UplinkOptions.MaxBatchBytes"/>: the broker would refuse it (AWS IoT Core: 128 KB), so
/// sending it again can never succeed. The sender sets it aside (dead letter) instead of retrying.
/// </summary>
internal sealed class UplinkMessageTooLargeException : Exception
{
    /// <summary>The reason code of the gateway dead letter for anything set aside as too large for the uplink.</summary>
    public const string DeadLetterCode = "TooLargeForUplink";

    public UplinkMessageTooLargeException()
    {
    }

    public UplinkMessageTooLargeException(string message)
        : base(message)
    {
    }

    public UplinkMessageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UplinkMessageTooLargeException(string topic, int bytes, int maxBytes)
        : base($"a message of {bytes} bytes for {topic} is above Agent:Uplink:MaxBatchBytes ({maxBytes})")
    {
        Bytes = bytes;
        MaxBytes = maxBytes;
    }

    public int Bytes { get; }

    public int MaxBytes { get; }
}
