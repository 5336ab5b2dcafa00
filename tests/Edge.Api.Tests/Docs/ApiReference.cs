using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Edge.Api.Tests.Docs;

/// <summary>Renders docs/reference/api.md from the committed OpenAPI document (docs/openapi/v1.json).</summary>
/// <remarks>
/// The OpenAPI document is itself kept equal to what the API serves (OpenApiDocumentTests), so the page follows the
/// code in two checked steps. Operations are listed in the document's order within each tag, tags in the document's
/// tag order, schemas by name: the page changes only when the API does.
/// </remarks>
internal static class ApiReference
{
    private const string SchemaPrefix = "#/components/schemas/";

    public static string Render(string openApiJson)
    {
        using var document = JsonDocument.Parse(openApiJson);
        var root = document.RootElement;
        var info = root.GetProperty("info");
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $"""
            # API reference

            <!-- Generated from docs/openapi/v1.json by tests/Edge.Api.Tests/Docs/ApiReferenceTests.cs. Do not edit: change
                 the API, refresh the OpenAPI document (EDGE_UPDATE_OPENAPI=1 … --filter OpenApiDocumentTests), then run
                 EDGE_UPDATE_DOCS=1 dotnet test tests/Edge.Api.Tests --filter ApiReferenceTests -->

            {info.GetProperty("title").GetString()}, version `{info.GetProperty("version").GetString()}`. {info.GetProperty("description").GetString()}

            Every operation below needs `Authorization: Bearer <JWT>` ({SecuritySchemes(root)}), unless it says otherwise.
            Which role may call which operation is a policy per endpoint; the OpenAPI document does not carry it, so the
            table is in [the API page](../api.md#roles-and-what-they-may-do) (a test calls every endpoint as every role and
            keeps that table true). A caller who may not see a clinic's entry gets `404`, not `403`. Errors are RFC 7807
            problem documents. How to use all this from an application: [developer onboarding](../developer-onboarding.md).

            ## Operations

            | method | path | operation | summary |
            | --- | --- | --- | --- |

            """);

        var operations = Operations(root).ToList();
        foreach (var op in operations)
        {
            page.Append(CultureInfo.InvariantCulture,
                $"| {op.Method.ToUpperInvariant()} | [`{op.Path}`](#{op.Id.ToLowerInvariant()}) | `{op.Id}` | {Cell(Text(op.Body, "summary"))} |\n");
        }

        foreach (var tag in operations.Select(o => o.Tag).Distinct())
        {
            page.Append(CultureInfo.InvariantCulture, $"\n## {tag}\n");
            foreach (var op in operations.Where(o => o.Tag == tag))
            {
                WriteOperation(page, root, op);
            }
        }

        page.Append("\n## Schemas\n");
        foreach (var schema in root.GetProperty("components").GetProperty("schemas").EnumerateObject().OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            WriteSchema(page, schema.Name, schema.Value);
        }

        return page.ToString();
    }

    private sealed record Operation(string Tag, string Method, string Path, string Id, JsonElement Body);

    private static IEnumerable<Operation> Operations(JsonElement root)
    {
        var tagOrder = root.TryGetProperty("tags", out var tags) ? tags.EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList() : [];
        var all = new List<Operation>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                var tag = method.Value.TryGetProperty("tags", out var t) ? t[0].GetString()! : "Other";
                all.Add(new Operation(tag, method.Name, path.Name, method.Value.GetProperty("operationId").GetString()!, method.Value));
            }
        }

        // OrderBy is stable: within a tag, the document's order.
        return all.OrderBy(o => tagOrder.IndexOf(o.Tag) is var i && i < 0 ? int.MaxValue : i);
    }

    private static void WriteOperation(StringBuilder page, JsonElement root, Operation op)
    {
        // The operation id is the heading, so the anchor the table links to is stable and unique.
        page.Append(CultureInfo.InvariantCulture, $"\n### {op.Id}\n\n`{op.Method.ToUpperInvariant()} {op.Path}`\n\n");
        page.Append(Text(op.Body, "summary")).Append('\n');
        if (op.Body.TryGetProperty("description", out var description))
        {
            page.Append('\n').Append(description.GetString()!.ReplaceLineEndings("\n")).Append('\n');
        }

        var anonymous = op.Body.TryGetProperty("security", out var security) && security.GetArrayLength() == 0;
        if (anonymous || !root.TryGetProperty("security", out _))
        {
            page.Append("\nNo token needed.\n");
        }

        if (op.Body.TryGetProperty("parameters", out var parameters) && parameters.GetArrayLength() > 0)
        {
            page.Append("\n| parameter | in | required | type |\n| --- | --- | --- | --- |\n");
            foreach (var p in parameters.EnumerateArray())
            {
                var required = p.TryGetProperty("required", out var r) && r.GetBoolean() ? "yes" : "no";
                page.Append(CultureInfo.InvariantCulture,
                    $"| `{p.GetProperty("name").GetString()}` | {p.GetProperty("in").GetString()} | {required} | {Cell(TypeOf(p.GetProperty("schema")))} |\n");
            }
        }

        if (op.Body.TryGetProperty("requestBody", out var body))
        {
            var required = body.TryGetProperty("required", out var r) && r.GetBoolean() ? "required" : "optional";
            foreach (var content in body.GetProperty("content").EnumerateObject())
            {
                page.Append(CultureInfo.InvariantCulture, $"\nBody ({required}): `{content.Name}`, {TypeOf(content.Value.GetProperty("schema"))}\n");
            }
        }

        page.Append("\n| status | meaning | body |\n| --- | --- | --- |\n");
        foreach (var response in op.Body.GetProperty("responses").EnumerateObject().OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            var contents = response.Value.TryGetProperty("content", out var c)
                ? string.Join("; ", c.EnumerateObject().Select(x => $"`{x.Name}`: {TypeOf(x.Value.GetProperty("schema"))}"))
                : "";
            page.Append(CultureInfo.InvariantCulture, $"| {response.Name} | {Cell(Text(response.Value, "description"))} | {Cell(contents)} |\n");
        }
    }

    private static void WriteSchema(StringBuilder page, string name, JsonElement schema)
    {
        page.Append(CultureInfo.InvariantCulture, $"\n### {name}\n\n");
        if (schema.TryGetProperty("description", out var description))
        {
            page.Append(description.GetString()!.ReplaceLineEndings(" ")).Append("\n\n");
        }

        if (!schema.TryGetProperty("properties", out var properties))
        {
            page.Append(CultureInfo.InvariantCulture, $"Type: {TypeOf(schema)}.\n");
            return;
        }

        var required = schema.TryGetProperty("required", out var list)
            ? list.EnumerateArray().Select(r => r.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        page.Append("| property | type | required | meaning |\n| --- | --- | --- | --- |\n");
        foreach (var property in properties.EnumerateObject())
        {
            page.Append(CultureInfo.InvariantCulture,
                $"| `{property.Name}` | {Cell(TypeOf(property.Value))} | {(required.Contains(property.Name) ? "yes" : "no")} | {Cell(Text(property.Value, "description"))} |\n");
        }
    }

    /// <summary>A short type: a link for a schema reference, "array of …", "integer (int64)" for .NET's number-or-numeric-string.</summary>
    private static string TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var target = reference.GetString()!;
            var name = target.StartsWith(SchemaPrefix, StringComparison.Ordinal) ? target[SchemaPrefix.Length..] : target;
            return $"[{name}](#{name.ToLowerInvariant()})";
        }

        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            return string.Join(" or ", oneOf.EnumerateArray().Select(TypeOf));
        }

        if (!schema.TryGetProperty("type", out var type))
        {
            return "any JSON";
        }

        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
        // System.Text.Json reads numbers from strings too, so the document says "integer or string" with a digits
        // pattern; what a client should send is the number.
        if (types.Contains("string") && (types.Contains("integer") || types.Contains("number")) && schema.TryGetProperty("pattern", out _))
        {
            types.Remove("string");
        }

        var nullable = types.Remove("null");
        var text = string.Join(" or ", types.Select(t => t switch
        {
            "array" when schema.TryGetProperty("items", out var items) => $"array of {TypeOf(items)}",
            "object" when schema.TryGetProperty("additionalProperties", out var values) && values.ValueKind == JsonValueKind.Object => $"map of {TypeOf(values)}",
            _ when schema.TryGetProperty("format", out var format) => $"{t} ({format.GetString()})",
            _ => t,
        }));
        if (schema.TryGetProperty("enum", out var values))
        {
            text += " (" + string.Join(", ", values.EnumerateArray().Select(v => $"`{v.GetRawText().Trim('"')}`")) + ")";
        }

        return nullable ? (text.Length == 0 ? "null" : text + ", nullable") : text;
    }

    private static string SecuritySchemes(JsonElement root) =>
        string.Join(", ", root.GetProperty("components").GetProperty("securitySchemes").EnumerateObject()
            .Select(s => $"`{s.Name}`: {Text(s.Value, "description")}"));

    private static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.GetString() ?? "" : "";

    private static string Cell(string text) => text.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal);
}
