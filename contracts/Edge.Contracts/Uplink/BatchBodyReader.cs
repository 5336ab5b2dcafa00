using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Contracts.Text;

namespace Edge.Contracts.Uplink;

/// <summary>Reads and checks one decoded body; payloads are slices of it.</summary>
internal static class BatchBodyReader
{
    // Payloads arrive at most 16 deep (PayloadLimits) and batches add 3 levels; the reader is iterative, so this only
    // bounds its small depth stack.
    private const int MaxJsonDepth = 1024;

    public static DecodedBatch Parse(byte[] utf8, BatchCompression compression)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxJsonDepth, CommentHandling = JsonCommentHandling.Disallow });
        int? version = null, count = null;
        string? gateway = null, lane = null;
        long? epoch = null, first = null, last = null;
        List<BatchReading>? readings = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new BatchFormatException("the body is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                RequireReadableName(ref reader, "the body");
                if (reader.ValueTextEquals("v"u8))
                {
                    version = NextInt32(ref reader, version, "v");
                }
                else if (reader.ValueTextEquals("gateway"u8))
                {
                    gateway = NextString(ref reader, gateway, "gateway");
                }
                else if (reader.ValueTextEquals("epoch"u8))
                {
                    epoch = NextInt64(ref reader, epoch, "epoch");
                }
                else if (reader.ValueTextEquals("lane"u8))
                {
                    lane = NextString(ref reader, lane, "lane");
                }
                else if (reader.ValueTextEquals("first"u8))
                {
                    first = NextInt64(ref reader, first, "first");
                }
                else if (reader.ValueTextEquals("last"u8))
                {
                    last = NextInt64(ref reader, last, "last");
                }
                else if (reader.ValueTextEquals("count"u8))
                {
                    count = NextInt32(ref reader, count, "count");
                }
                else if (reader.ValueTextEquals("readings"u8))
                {
                    Once(readings is not null, "readings");
                    reader.Read();
                    readings = ReadReadings(ref reader, utf8);
                }
                else
                {
                    // Later v1 writers may add properties; readers skip what they do not know.
                    reader.Skip();
                }
            }

            // Anything but whitespace after the object is refused by the reader itself.
            while (reader.Read())
            {
            }
        }
        catch (JsonException ex)
        {
            throw new BatchFormatException($"the body is not valid JSON ({ex.Message})", ex, Declared(version, gateway, epoch, lane, first, last, count));
        }
        catch (BatchFormatException ex)
        {
            throw new BatchFormatException(ex.Reason, ex.InnerException, Declared(version, gateway, epoch, lane, first, last, count));
        }

        try
        {
            return new DecodedBatch(CheckHeader(version, gateway, epoch, lane, first, last, count, readings), readings!, compression);
        }
        catch (BatchFormatException ex)
        {
            throw new BatchFormatException(ex.Reason, ex.InnerException, Declared(version, gateway, epoch, lane, first, last, count));
        }
    }

    /// <summary>The header the body declared, if every field of it was read and is well formed; else null.</summary>
    private static BatchHeader? Declared(int? version, string? gateway, long? epoch, string? lane, long? first, long? last, int? count) =>
        version == BatchCodec.FormatVersion && UplinkTopics.IsValidGatewayId(gateway) && epoch is { } e && BatchLanes.IsKnown(lane)
            && first is { } f && last is { } l && f <= l && count is { } c && c >= 1
            ? new BatchHeader(gateway!, e, lane!, f, l, c)
            : null;

    private static List<BatchReading> ReadReadings(ref Utf8JsonReader reader, byte[] utf8)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new BatchFormatException("'readings' must be an array");
        }

        var readings = new List<BatchReading>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var index = readings.Count;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new BatchFormatException($"readings[{index}] must be an object");
            }

            long? sequence = null;
            string? serial = null;
            DateTimeOffset? receivedAt = null;
            ReadOnlyMemory<byte>? payload = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                RequireReadableName(ref reader, index);
                if (reader.ValueTextEquals("q"u8))
                {
                    Once(sequence.HasValue, index, ".q");
                    reader.Read();
                    sequence = ReadInt64(ref reader, index, ".q");
                }
                else if (reader.ValueTextEquals("s"u8))
                {
                    Once(serial is not null, index, ".s");
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length is 0 or > 64)
                    {
                        throw new BatchFormatException($"readings[{index}].s must be a serial string of 1-64 characters");
                    }

                    serial = ReadString(ref reader, index, ".s");
                }
                else if (reader.ValueTextEquals("r"u8))
                {
                    Once(receivedAt.HasValue, index, ".r");
                    reader.Read();
                    receivedAt = ReadTimestamp(ref reader, index);
                }
                else if (reader.ValueTextEquals("p"u8))
                {
                    Once(payload.HasValue, index, ".p");
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    payload = utf8.AsMemory(start, (int)reader.BytesConsumed - start);
                }
                else
                {
                    reader.Skip();
                }
            }

            var q = sequence ?? throw new BatchFormatException($"readings[{index}] has no sequence 'q'");
            var s = serial ?? throw new BatchFormatException($"readings[{index}] has no serial 's'");
            var r = receivedAt ?? throw new BatchFormatException($"readings[{index}] has no receive time 'r'");
            var p = payload ?? throw new BatchFormatException($"readings[{index}] has no payload 'p'");
            if (index > 0 && q <= readings[index - 1].Sequence)
            {
                var previous = readings[index - 1].Sequence;
                throw new BatchFormatException(q == previous
                    ? $"readings[{index}].q {q} is a duplicate of the reading before it"
                    : $"readings[{index}].q {q} is not above {previous}: readings must be in ascending sequence order");
            }

            readings.Add(new BatchReading(q, s, r, p));
        }

        return readings;
    }

    private static BatchHeader CheckHeader(
        int? version, string? gateway, long? epoch, string? lane, long? first, long? last, int? count, List<BatchReading>? readings)
    {
        if (version is not { } v)
        {
            throw new BatchFormatException("the body has no version 'v'");
        }

        if (v != BatchCodec.FormatVersion)
        {
            throw new BatchFormatException($"body version {v} is not {BatchCodec.FormatVersion}");
        }

        if (gateway is null)
        {
            throw new BatchFormatException("the body has no 'gateway'");
        }

        if (!UplinkTopics.IsValidGatewayId(gateway))
        {
            throw new BatchFormatException($"gateway '{MessageText.Quote(gateway)}' is not a gateway id (1-64 letters, digits, '-' or '_')");
        }

        var e = epoch ?? throw new BatchFormatException("the body has no 'epoch'");
        if (lane is null)
        {
            throw new BatchFormatException("the body has no 'lane'");
        }

        if (!BatchLanes.IsKnown(lane))
        {
            throw new BatchFormatException($"lane '{MessageText.Quote(lane)}' is neither \"{BatchLanes.Urgent}\" nor \"{BatchLanes.Routine}\"");
        }

        var f = first ?? throw new BatchFormatException("the body has no 'first'");
        var l = last ?? throw new BatchFormatException("the body has no 'last'");
        var c = count ?? throw new BatchFormatException("the body has no 'count'");
        if (readings is null)
        {
            throw new BatchFormatException("the body has no 'readings'");
        }

        if (readings.Count == 0)
        {
            throw new BatchFormatException("the batch has no readings");
        }

        if (c != readings.Count)
        {
            throw new BatchFormatException($"count is {c} but {readings.Count} readings follow");
        }

        if (f != readings[0].Sequence)
        {
            throw new BatchFormatException($"first is {f} but the first reading's sequence is {readings[0].Sequence}");
        }

        if (l != readings[^1].Sequence)
        {
            throw new BatchFormatException($"last is {l} but the last reading's sequence is {readings[^1].Sequence}");
        }

        return new BatchHeader(gateway, e, lane, f, l, c);
    }

    private static void Once(bool seen, string name)
    {
        if (seen)
        {
            throw new BatchFormatException($"'{name}' appears twice");
        }
    }

    // The per-reading forms name the field (readings[3].q) only when it is refused: a batch of 500 readings would
    // otherwise format thousands of names that nobody reads.
    private static string ReadingField(int index, string field) => $"readings[{index}]{field}";

    private static void Once(bool seen, int index, string field)
    {
        if (seen)
        {
            Once(seen, ReadingField(index, field));
        }
    }

    private static long ReadInt64(ref Utf8JsonReader reader, int index, string field) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : ReadInt64(ref reader, ReadingField(index, field));

    private static string ReadString(ref Utf8JsonReader reader, int index, string field)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                // Not valid text: refused below, with the field's name.
            }
        }

        return ReadString(ref reader, ReadingField(index, field));
    }

    private static void RequireReadableName(ref Utf8JsonReader reader, int index)
    {
        if (reader.ValueIsEscaped)
        {
            RequireReadableName(ref reader, ReadingField(index, ""));
        }
    }

    // A header field's value: refused if the name came before, else read as its type.
    private static int NextInt32(ref Utf8JsonReader reader, int? seen, string name)
    {
        Once(seen.HasValue, name);
        reader.Read();
        return ReadInt32(ref reader, name);
    }

    private static long NextInt64(ref Utf8JsonReader reader, long? seen, string name)
    {
        Once(seen.HasValue, name);
        reader.Read();
        return ReadInt64(ref reader, name);
    }

    private static string NextString(ref Utf8JsonReader reader, string? seen, string name)
    {
        Once(seen is not null, name);
        reader.Read();
        return ReadString(ref reader, name);
    }

    private static int ReadInt32(ref Utf8JsonReader reader, string name) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value)
            ? value
            : throw new BatchFormatException($"'{name}' must be a 32-bit integer");

    private static long ReadInt64(ref Utf8JsonReader reader, string name) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value)
            ? value
            : throw new BatchFormatException($"'{name}' must be a 64-bit integer");

    /// <summary>
    /// An escaped property name is unescaped to be compared, and ValueTextEquals throws InvalidOperationException on
    /// an unpaired surrogate escape such as <c>"\ud800"</c>: refuse the batch before any comparison.
    /// </summary>
    private static void RequireReadableName(ref Utf8JsonReader reader, string where)
    {
        if (!reader.ValueIsEscaped)
        {
            return;
        }

        try
        {
            _ = reader.GetString();
        }
        catch (InvalidOperationException ex)
        {
            throw new BatchFormatException($"{where} has a property name that is not valid text (an unpaired UTF-16 surrogate escape)", ex);
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new BatchFormatException($"'{name}' must be a string");
        }

        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            // The reader checks a string's UTF-8 only when asked for it as text.
            throw new BatchFormatException($"'{name}' is not valid UTF-8", ex);
        }
    }

    private static DateTimeOffset ReadTimestamp(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
        {
            throw new BatchFormatException($"readings[{index}].r must be an RFC 3339 timestamp string");
        }

        return WireTime.TryParseTimestamp(reader.ValueSpan, out var value, out var reason)
            ? value
            : throw new BatchFormatException($"readings[{index}].r {reason}");
    }
}
