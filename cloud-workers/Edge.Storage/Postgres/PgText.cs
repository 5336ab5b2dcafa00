namespace Edge.Storage.Postgres;

/// <summary>Makes text PostgreSQL can hold: it refuses the NUL character in <c>text</c> and <c>\u0000</c> in <c>jsonb</c>.</summary>
/// <remarks>
/// Both are legal in a device's JSON, and the validator lets them through. Stored as they are, one such reading would
/// fail its whole batch on every re-send and block the gateway's queue, so NUL becomes U+FFFD (the replacement
/// character) instead. Nothing else is changed; a payload without NUL costs one scan.
/// </remarks>
internal static class PgText
{
    private const char Replacement = '\uFFFD';

    public static string Clean(string value) =>
        value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', Replacement) : value;

    public static string? CleanOrNull(string? value) => value is null ? null : Clean(value);

    /// <summary>
    /// Returns <paramref name="json"/>, or a copy with every <c>\u0000</c> escape rewritten to <c>\ufffd</c>.
    /// Valid JSON has backslashes only inside strings, each starting an escape, so a left-to-right scan that skips
    /// whole escapes finds exactly the escapes that mean NUL (and not a literal "\\u0000").
    /// </summary>
    public static ReadOnlyMemory<byte> CleanJson(ReadOnlyMemory<byte> json)
    {
        var span = json.Span;
        if (span.IndexOf("\\u0000"u8) < 0)
        {
            return json;
        }

        var copy = span.ToArray();
        for (var i = span.IndexOf((byte)'\\'); i >= 0 && i < copy.Length - 1;)
        {
            if (copy[i + 1] == 'u' && i + 5 < copy.Length
                && copy[i + 2] == '0' && copy[i + 3] == '0' && copy[i + 4] == '0' && copy[i + 5] == '0')
            {
                "fffd"u8.CopyTo(copy.AsSpan(i + 2));
                i += 6;
            }
            else
            {
                i += copy[i + 1] == 'u' ? 6 : 2;
            }

            var next = i < copy.Length ? copy.AsSpan(i).IndexOf((byte)'\\') : -1;
            i = next < 0 ? -1 : i + next;
        }
        return copy;
    }
}
