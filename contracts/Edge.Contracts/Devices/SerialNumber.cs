namespace Edge.Contracts.Devices;

/// <summary>A device serial such as <c>CPAP-2301-9912</c>, known to be well formed; its prefix gives the device kind.</summary>
/// <remarks>
/// Only <see cref="TryParse"/> and <see cref="Parse"/> make one, so holding a <see cref="SerialNumber"/> means the
/// text was checked. <c>default(SerialNumber)</c> has a null <see cref="Value"/> and is never a parsed serial.
/// </remarks>
public readonly record struct SerialNumber
{
    private const string ExpectedShape = "expected PREFIX-NNNN-NNNN, e.g. CPAP-2301-9912";
    private const string KnownPrefixes = "expected CPAP, BIPAP, OXY or ECG";

    // Reasons quote what was received; a pasted log line should not turn into a page of text.
    private const int MaxQuoted = 40;

    private SerialNumber(string value, DeviceKind kind)
    {
        Value = value;
        Kind = kind;
    }

    /// <summary>The serial exactly as written, e.g. <c>OXY-8844-5521</c>.</summary>
    public string Value { get; }

    /// <summary>The device kind its prefix names.</summary>
    public DeviceKind Kind { get; }

    public override string ToString() => Value ?? string.Empty;

    /// <summary>Parses <c>^(CPAP|BIPAP|OXY|ECG)-\d{4}-\d{4}$</c> (ASCII digits only); throws <see cref="FormatException"/> with the reason.</summary>
    public static SerialNumber Parse(string text)
    {
        if (TryParse(text, out var serial, out var reason))
        {
            return serial;
        }
        throw new FormatException($"'{Quote(text)}' is not a device serial: {reason}");
    }

    /// <summary>
    /// Parses <c>^(CPAP|BIPAP|OXY|ECG)-\d{4}-\d{4}$</c> (ASCII digits only). On refusal, <paramref name="reason"/> says
    /// what is wrong in words a technician can act on; on success it is empty.
    /// </summary>
    public static bool TryParse(string? text, out SerialNumber serial, out string reason)
    {
        serial = default;
        if (string.IsNullOrEmpty(text))
        {
            reason = "serial is empty; " + ExpectedShape;
            return false;
        }

        ReadOnlySpan<char> span = text;
        var firstDash = span.IndexOf('-');
        if (firstDash < 0)
        {
            reason = $"no '-' in '{Quote(text)}'; {ExpectedShape}";
            return false;
        }

        var prefix = span[..firstDash];
        if (!DeviceKinds.TryFromPrefix(prefix, out var kind))
        {
            reason = DescribeBadPrefix(prefix);
            return false;
        }

        // After the prefix: exactly "-NNNN-NNNN".
        var rest = span[firstDash..];
        if (rest.Length != 10 || rest[5] != '-' || !AllAsciiDigits(rest.Slice(1, 4)) || !AllAsciiDigits(rest.Slice(6, 4)))
        {
            reason = $"'{Quote(text)}' does not have two groups of 4 digits after '{prefix}-'; {ExpectedShape}";
            return false;
        }

        serial = new SerialNumber(text, kind);
        reason = string.Empty;
        return true;
    }

    private static string DescribeBadPrefix(ReadOnlySpan<char> prefix)
    {
        if (prefix.IsEmpty)
        {
            return "the prefix before the first '-' is missing; " + KnownPrefixes;
        }

        // A lower-case prefix is the usual typing slip; say so instead of calling it unknown.
        Span<char> upper = stackalloc char[Math.Min(prefix.Length, 8)];
        if (prefix.Length <= upper.Length && prefix.ToUpperInvariant(upper) == prefix.Length
            && DeviceKinds.TryFromPrefix(upper, out _))
        {
            return $"prefix '{prefix}' must be upper case ('{upper}')";
        }

        return $"unknown prefix '{Quote(prefix)}'; {KnownPrefixes}";
    }

    private static bool AllAsciiDigits(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static string Quote(ReadOnlySpan<char> text) =>
        text.Length <= MaxQuoted ? text.ToString() : string.Concat(text[..MaxQuoted], "…");
}
