using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Edge.Contracts.Payloads;
using static Edge.Contracts.Text.MessageText;

namespace Edge.Contracts.Validation;

/// <summary>
/// Explains why the serializer refused a payload, in field terms. Runs only after a refusal, so it may take its time:
/// it re-reads the document to tell malformed JSON from too-deep JSON, then walks the document against the
/// source-generated metadata to name every missing, null, mistyped or misformatted field.
/// </summary>
/// <remarks>
/// Walking the metadata (not hand-written shapes) keeps the explanation in step with the records. The serializer stops
/// at the first problem; the walk reports them all, which is what a technician fixing firmware wants.
/// </remarks>
internal static class ShapeDiagnosis
{
    public static void Explain(ReadOnlySpan<byte> json, PayloadLimits limits, JsonTypeInfo typeInfo, JsonException refusal, ref ErrorList errors)
    {
        if (!TryScan(json, out var depth, out var syntax))
        {
            errors.Add(FieldError.Document, syntax);
            return;
        }
        if (depth > limits.MaxDepth)
        {
            errors.Add(FieldError.Document, Invariant($"JSON is nested {depth} levels deep; the limit is {limits.MaxDepth}"));
            return;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = depth + 1 });
        var root = JsonElement.ParseValue(ref reader);
        var before = errors.Count;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(FieldError.Document, $"expected a JSON object (was {Describe(root.ValueKind)})");
            return;
        }
        CheckObject(root, typeInfo, null, ref errors);

        if (errors.Count == before)
        {
            // The walk found nothing the serializer did not like; fall back to the serializer's own words and place.
            errors.Add(FieldFromJsonPath(refusal.Path), "invalid value: " + WithoutPosition(refusal.Message));
        }
    }

    /// <summary>The byte offset of the first invalid UTF-8 sequence.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        Span<char> scratch = stackalloc char[256];
        var offset = 0;
        while (!bytes.IsEmpty)
        {
            var status = Utf8.ToUtf16(bytes, scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status != System.Buffers.OperationStatus.DestinationTooSmall)
            {
                break;
            }
            bytes = bytes[read..];
        }
        return offset;
    }

    /// <summary>Turns a serializer path (<c>$.metrics.qt_ms</c>, <c>$['a b'][2]</c>) into the dotted field (<c>metrics.qt_ms</c>, <c>a b[2]</c>).</summary>
    public static string FieldFromJsonPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return FieldError.Document;
        }

        var field = new StringBuilder(path.Length);
        var i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                AppendName(field, path.AsSpan(i + 1, end - i - 1));
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? path.Length : end;
                AppendName(field, path.AsSpan(i + 2, end - i - 2));
                i = Math.Min(end + 2, path.Length);
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                end = end < 0 ? path.Length - 1 : end;
                field.Append(path.AsSpan(i, end - i + 1));
                i = end + 1;
            }
            else
            {
                field.Append(path[i]);
                i++;
            }
        }
        return field.Length == 0 ? FieldError.Document : field.ToString();

        static void AppendName(StringBuilder field, ReadOnlySpan<char> name)
        {
            if (field.Length > 0)
            {
                field.Append('.');
            }
            field.Append(name);
        }
    }

    private static bool TryScan(ReadOnlySpan<byte> json, out int depth, out string reason)
    {
        depth = 0;
        reason = string.Empty;
        // Depth cannot exceed the byte count, so this reader never refuses on depth: we want the real depth to report it.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = json.Length + 1 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    depth = Math.Max(depth, reader.CurrentDepth + 1);
                }
            }
            return true;
        }
        catch (JsonException ex)
        {
            var line = (ex.LineNumber ?? 0) + 1;
            var column = (ex.BytePositionInLine ?? 0) + 1;
            reason = Invariant($"malformed JSON at line {line}, byte {column}: {WithoutPosition(ex.Message)}");
            return false;
        }
    }

    private static void CheckObject(JsonElement obj, JsonTypeInfo typeInfo, string? path, ref ErrorList errors)
    {
        if (!HasReadableNames(obj))
        {
            // Comparing such a name throws; the serializer skipped it as unknown, so this is the first to see it.
            errors.Add(path ?? FieldError.Document, "a property name is not valid text (an unpaired UTF-16 surrogate escape)");
            return;
        }

        foreach (var property in typeInfo.Properties)
        {
            var field = path is null ? property.Name : $"{path}.{property.Name}";
            var found = 0;
            JsonElement value = default;
            foreach (var member in obj.EnumerateObject())
            {
                if (member.NameEquals(property.Name))
                {
                    found++;
                    value = member.Value;
                }
            }

            if (found == 0)
            {
                if (property.IsRequired || property.AssociatedParameter is { HasDefaultValue: false })
                {
                    errors.Add(field, "required field is missing");
                }
                continue;
            }
            if (found > 1)
            {
                errors.Add(field, Invariant($"appears {found} times; send it once"));
                continue;
            }

            var allowsNull = property.AssociatedParameter?.IsNullable ?? property.IsSetNullable;
            CheckValue(value, property.PropertyType, allowsNull, typeInfo.Options, field, ref errors);
        }
    }

    private static bool HasReadableNames(JsonElement obj)
    {
        foreach (var member in obj.EnumerateObject())
        {
            try
            {
                _ = member.Name;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
        return true;
    }

    private static void CheckValue(JsonElement value, Type type, bool allowsNull, JsonSerializerOptions options, string field, ref ErrorList errors)
    {
        var kind = value.ValueKind;
        if (kind == JsonValueKind.Null)
        {
            if (!allowsNull)
            {
                errors.Add(field, "must not be null");
            }
            return;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(double))
        {
            if (kind != JsonValueKind.Number)
            {
                errors.Add(field, $"expected a number (was {Describe(kind)})");
            }
            else if (!value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                errors.Add(field, $"must be a finite number (was {Quote(value.GetRawText())})");
            }
        }
        else if (type == typeof(int))
        {
            if (kind != JsonValueKind.Number)
            {
                errors.Add(field, $"expected a whole number (was {Describe(kind)})");
            }
            else if (!value.TryGetInt32(out _))
            {
                var raw = value.GetRawText();
                errors.Add(field, raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0
                    ? $"is out of range (was {Quote(raw)})"
                    : $"must be a whole number (was {Quote(raw)})");
            }
        }
        else if (type == typeof(bool))
        {
            if (kind is not (JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add(field, $"expected true or false (was {Describe(kind)})");
            }
        }
        else if (type == typeof(string) || type == typeof(DateTimeOffset) || type == typeof(DateOnly))
        {
            CheckText(value, type, field, ref errors);
        }
        else
        {
            var nested = options.GetTypeInfo(type);
            if (nested.Kind == JsonTypeInfoKind.Object)
            {
                if (kind != JsonValueKind.Object)
                {
                    errors.Add(field, $"expected an object (was {Describe(kind)})");
                    return;
                }
                CheckObject(value, nested, field, ref errors);
            }
            else if (nested.Kind == JsonTypeInfoKind.Enumerable && nested.ElementType is { } itemType)
            {
                if (kind != JsonValueKind.Array)
                {
                    errors.Add(field, $"expected an array (was {Describe(kind)})");
                    return;
                }
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    // Nullable annotations do not reach list items, so the serializer lets null items through;
                    // the range rules report them once the document is read.
                    CheckValue(item, itemType, allowsNull: true, options, Invariant($"{field}[{index}]"), ref errors);
                    index++;
                }
            }
        }
    }

    private static void CheckText(JsonElement value, Type type, string field, ref ErrorList errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, $"expected a string (was {Describe(value.ValueKind)})");
            return;
        }

        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            errors.Add(field, "is not valid text (an unpaired UTF-16 surrogate escape)");
            return;
        }

        string reason;
        if (type == typeof(DateTimeOffset) && !WireTime.TryParseTimestamp(Encoding.UTF8.GetBytes(text), out _, out reason))
        {
            errors.Add(field, reason);
        }
        else if (type == typeof(DateOnly) && !WireTime.TryParseDate(Encoding.UTF8.GetBytes(text), out _, out reason))
        {
            errors.Add(field, reason);
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string WithoutPosition(string message)
    {
        // Runtime messages end with " Path: … | LineNumber: … | BytePositionInLine: …"; we report those separately.
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }
        return (cut < 0 ? message : message[..cut]).TrimEnd('.', ' ');
    }
}
