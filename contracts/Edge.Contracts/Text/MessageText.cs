using System.Globalization;

namespace Edge.Contracts.Text;

/// <summary>How refusals and errors quote what they were given: the batch reader, the payload rules, the shape diagnosis.</summary>
internal static class MessageText
{
    /// <summary>Echoed text from a hostile sender stays short in logs and replies.</summary>
    public const int MaxQuoted = 40;

    /// <summary>The text as given, or its first <see cref="MaxQuoted"/> characters and an ellipsis.</summary>
    public static string Quote(string text) => text.Length <= MaxQuoted ? text : string.Concat(text.AsSpan(0, MaxQuoted), "…");

    /// <summary>A message with its numbers written the same on every machine (the product runs with invariant globalization, a library user may not).</summary>
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
