using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Edge.Contracts.Tests.Docs;

/// <summary>Renders docs/reference/payloads.md from the JSON Schemas in docs/schemas/v1/, so the page cannot drift from them.</summary>
/// <remarks>
/// It reads only the keywords the schemas use (type, required, properties, items, enum, minimum/maximum,
/// minLength/maxLength, minItems/maxItems, pattern, additionalProperties, description) and fails on any other, so a
/// schema that starts using, say, <c>$ref</c> or <c>oneOf</c> makes the test say the generator needs teaching
/// rather than leave the keyword out of the page silently.
/// </remarks>
internal static class PayloadReference
{
    private static readonly HashSet<string> Understood =
    [
        "$schema", "$id", "title", "description", "type", "required", "properties", "items", "enum", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems", "pattern", "additionalProperties",
    ];

    public static string Render(IEnumerable<(string FileName, string Json)> schemas)
    {
        var page = new StringBuilder();
        page.Append("""
            # Payload reference

            <!-- Generated from docs/schemas/v1/*.schema.json by tests/Edge.Contracts.Tests/Docs/PayloadReferenceTests.cs.
                 Do not edit: change the schema, then run
                 EDGE_UPDATE_DOCS=1 dotnet test tests/Edge.Contracts.Tests --filter PayloadReferenceTests -->

            Every field of every device payload, as the JSON Schemas in [`schemas/v1/`](../schemas/v1/) define it. The
            agent's `PayloadValidator` enforces the same rules (a test keeps the two in agreement) and a few the
            schemas cannot express, such as a serial that must equal the one in the topic; [payloads](../payloads.md)
            explains them, with examples. A field is *required* when its object must have it; a field inside an
            optional object is required only when that object is present.

            | schema | what |
            | --- | --- |

            """);
        var parsed = schemas.OrderBy(s => s.FileName, StringComparer.Ordinal)
            .Select(s => (s.FileName, Document: JsonDocument.Parse(s.Json)))
            .ToList();
        foreach (var (fileName, document) in parsed)
        {
            var title = document.RootElement.GetProperty("title").GetString()!;
            page.Append(CultureInfo.InvariantCulture, $"| [{title}](#{Anchor(title)}) | `{fileName}` |\n");
        }

        foreach (var (fileName, document) in parsed)
        {
            using (document)
            {
                var root = document.RootElement;
                page.Append(CultureInfo.InvariantCulture, $"\n## {root.GetProperty("title").GetString()}\n\n");
                page.Append(CultureInfo.InvariantCulture, $"Schema: [`schemas/v1/{fileName}`](../schemas/v1/{fileName}).\n\n");
                page.Append(root.GetProperty("description").GetString()).Append("\n\n");
                page.Append("| field | type | required | constraints | meaning |\n| --- | --- | --- | --- | --- |\n");
                WriteProperties(page, fileName, root, prefix: "");
            }
        }

        return page.ToString();
    }

    private static void WriteProperties(StringBuilder page, string fileName, JsonElement schema, string prefix)
    {
        Check(fileName, prefix, schema);
        var required = schema.TryGetProperty("required", out var list)
            ? list.EnumerateArray().Select(r => r.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var property in schema.GetProperty("properties").EnumerateObject())
        {
            WriteField(page, fileName, prefix + property.Name, property.Value, required.Contains(property.Name) ? "yes" : "no");
        }
    }

    private static void WriteField(StringBuilder page, string fileName, string path, JsonElement field, string required)
    {
        Check(fileName, path, field);
        page.Append(CultureInfo.InvariantCulture,
            $"| `{path}` | {TypeOf(field)} | {required} | {Cell(Constraints(field))} | {Cell(field.TryGetProperty("description", out var d) ? d.GetString()! : "")} |\n");
        if (field.TryGetProperty("properties", out _))
        {
            WriteProperties(page, fileName, field, path + ".");
        }
        else if (field.TryGetProperty("items", out var items))
        {
            if (items.TryGetProperty("properties", out _))
            {
                WriteProperties(page, fileName, items, path + "[].");
            }
            else
            {
                WriteField(page, fileName, path + "[]", items, "");
            }
        }
    }

    private static string TypeOf(JsonElement field)
    {
        if (!field.TryGetProperty("type", out var type))
        {
            return "any";
        }

        var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!) : [type.GetString()!];
        return string.Join(" or ", names.Select(n => n == "array" && field.TryGetProperty("items", out var items) ? $"array of {TypeOf(items)}" : n));
    }

    private static string Constraints(JsonElement field)
    {
        var parts = new List<string>();
        Range(field, "minimum", "maximum", "", parts);
        Range(field, "minLength", "maxLength", "length ", parts);
        Range(field, "minItems", "maxItems", "items ", parts);
        if (field.TryGetProperty("enum", out var values))
        {
            parts.Add("one of " + string.Join(", ", values.EnumerateArray().Select(v => $"`{v.GetRawText().Trim('"')}`")));
        }

        if (field.TryGetProperty("pattern", out var pattern))
        {
            parts.Add($"pattern `{pattern.GetString()}`");
        }

        if (field.TryGetProperty("additionalProperties", out var additional))
        {
            parts.Add(additional.ValueKind == JsonValueKind.False ? "no other properties" : "other properties allowed");
        }

        return string.Join("; ", parts);
    }

    private static void Range(JsonElement field, string min, string max, string label, List<string> parts)
    {
        var low = field.TryGetProperty(min, out var l) ? l.GetRawText() : null;
        var high = field.TryGetProperty(max, out var h) ? h.GetRawText() : null;
        if (low is not null && high is not null)
        {
            parts.Add($"{label}{low} to {high}");
        }
        else if (low is not null)
        {
            parts.Add($"{label}≥ {low}");
        }
        else if (high is not null)
        {
            parts.Add($"{label}≤ {high}");
        }
    }

    private static void Check(string fileName, string path, JsonElement schema)
    {
        foreach (var keyword in schema.EnumerateObject())
        {
            if (!Understood.Contains(keyword.Name))
            {
                throw new InvalidOperationException(
                    $"{fileName}: '{(path.Length == 0 ? "(root)" : path)}' uses '{keyword.Name}', which PayloadReference does not render yet; teach it before relying on the page.");
            }
        }
    }

    // A table cell: one line, and '|' escaped (it would end the cell, even inside a code span).
    private static string Cell(string text) => text.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal);

    // GitHub's heading anchors: lower case, spaces to '-', punctuation other than '-' and '_' dropped.
    internal static string Anchor(string heading) =>
        new(heading.ToLowerInvariant().Replace(' ', '-').Where(c => char.IsLetterOrDigit(c) || c is '-' or '_').ToArray());
}
