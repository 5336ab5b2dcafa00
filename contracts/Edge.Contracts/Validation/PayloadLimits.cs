namespace Edge.Contracts.Validation;

/// <summary>Size and nesting limits applied before a payload is read; the defaults suit every device payload in v1.</summary>
/// <param name="MaxBytes">Largest payload accepted, in bytes (default 64 KiB; a seed payload is about 250 bytes).</param>
/// <param name="MaxDepth">Deepest nesting of objects and arrays accepted (default 16; payloads use 4 at most).</param>
public sealed record PayloadLimits(int MaxBytes = PayloadLimits.DefaultMaxBytes, int MaxDepth = PayloadLimits.DefaultMaxDepth)
{
    public const int DefaultMaxBytes = 65536;
    public const int DefaultMaxDepth = 16;

    /// <summary>64 KiB, 16 levels.</summary>
    public static PayloadLimits Default { get; } = new();

    // A zero or negative limit is a configuration mistake: fail where it is made, not on the first message.
    public int MaxBytes { get; init => field = Positive(value, nameof(MaxBytes)); } = Positive(MaxBytes, nameof(MaxBytes));

    public int MaxDepth { get; init => field = Positive(value, nameof(MaxDepth)); } = Positive(MaxDepth, nameof(MaxDepth));

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, "must be positive");
}
