using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Payloads;

/// <summary>Reads and writes <c>timestamp</c> as RFC 3339 with an explicit offset.</summary>
internal sealed class Rfc3339TimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Span<byte> scratch = stackalloc byte[WireTime.MaxTimestampBytes + 1];
        var length = WireTimeText.CopyShort(ref reader, scratch);
        if (length < 0 || !WireTime.TryParseTimestamp(scratch[..length], out var value, out _))
        {
            // The validator re-reads the document to word the reason; the serializer only needs to stop here.
            throw new JsonException("timestamp is not RFC 3339 with an offset");
        }
        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        // Written raw because the default encoder would turn '+' into "\u002B", which trips simple device parsers.
        // The text is only digits and "-:.TZ+", so there is nothing to escape.
        Span<byte> quoted = stackalloc byte[WireTime.MaxTimestampBytes + 2];
        quoted[0] = (byte)'"';
        var written = WireTime.FormatTimestamp(value, quoted[1..]);
        quoted[written + 1] = (byte)'"';
        writer.WriteRawValue(quoted[..(written + 2)], skipInputValidation: true);
    }
}

/// <summary>Reads and writes a <see cref="DateOnly"/> as exactly <c>yyyy-MM-dd</c>.</summary>
internal sealed class IsoDateConverter : JsonConverter<DateOnly>
{
    public override DateOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Span<byte> scratch = stackalloc byte[16];
        var length = WireTimeText.CopyShort(ref reader, scratch);
        if (length < 0 || !WireTime.TryParseDate(scratch[..length], out var value, out _))
        {
            throw new JsonException("date is not yyyy-MM-dd");
        }
        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateOnly value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WireTime.FormatDate(value));
}

internal static class WireTimeText
{
    /// <summary>Copies a short string token's unescaped UTF-8 into <paramref name="scratch"/>; -1 for non-strings and long strings.</summary>
    public static int CopyShort(ref Utf8JsonReader reader, scoped Span<byte> scratch)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return -1;
        }
        // The escaped length is an upper bound of the unescaped one, so this also guards CopyString.
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        return length < scratch.Length ? reader.CopyString(scratch) : -1;
    }
}
