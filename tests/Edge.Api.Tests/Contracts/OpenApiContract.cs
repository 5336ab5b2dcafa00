using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Edge.Api.Tests.Contracts;

/// <summary>
/// docs/openapi/v1.json as a validator: which operation a request is, whether a request the API accepted is one the
/// document allows, and whether a response is one the document declares (its status, its media type, its body against
/// the schema).
/// </summary>
/// <remarks>
/// In process, not Stoplight Prism in proxy mode: the test sends through a <see cref="ContractRecorder"/> handler, so
/// no extra process, port or Node start-up per test class, and a violation names the request that caused it in the
/// failing test's message. The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: JsonSchema.Net
/// evaluates them with the document's components as <c>$defs</c>.
/// </remarks>
internal sealed partial class OpenApiContract
{
    private const string Dialect = "https://json-schema.org/draft/2020-12/schema";

    private readonly JsonObject _definitions;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);
    private int _schemaCount;

    private OpenApiContract(JsonObject document)
    {
        _definitions = (JsonObject)JsonNode.Parse(RewriteReferences(document["components"]?["schemas"]?.ToJsonString() ?? "{}"))!;
        var operations = new List<Operation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                operations.Add(new Operation(method.ToUpperInvariant(), path, Template(path), operation!.AsObject()));
            }
        }
        Operations = operations;
    }

    /// <summary>Every operation the document declares.</summary>
    public IReadOnlyList<Operation> Operations { get; }

    public static OpenApiContract Load(string path) => new(JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    /// <summary>The operation a request is, or null; a literal segment wins over a parameter (<c>/webhooks/dead-letters</c>).</summary>
    public Operation? Match(string method, string path) =>
        Operations.Where(o => o.Method == method && o.Pattern.IsMatch(path)).MaxBy(o => o.LiteralSegments);

    /// <summary>What is wrong with a request the API accepted, judged by the document (empty when nothing is).</summary>
    public IEnumerable<string> CheckAcceptedRequest(Operation operation, IReadOnlyList<KeyValuePair<string, string>> query, string? mediaType, byte[] body)
    {
        var parameters = operation.Definition["parameters"]?.AsArray().Select(p => p!.AsObject()).ToList() ?? [];
        foreach (var (name, value) in query)
        {
            var declared = parameters.FirstOrDefault(p => (string?)p["in"] == "query" && (string?)p["name"] == name);
            // Not a parameter of its own: it may be a property of an exploded object parameter (style form), whose
            // properties travel as parameters of their own name.
            var schema = declared is null ? ExplodedPropertySchema(parameters, name) : declared["schema"] as JsonObject;
            if (declared is null && schema is null)
            {
                yield return $"query parameter '{name}' is not in the document";
                continue;
            }
            if (schema is not null && !QueryValueFits(schema, value))
            {
                yield return $"query parameter '{name}={value}' does not fit its schema {schema.ToJsonString()}";
            }
        }
        foreach (var required in parameters.Where(p => (string?)p["in"] == "query" && p["required"]?.GetValue<bool>() == true))
        {
            if (!query.Any(q => q.Key == (string?)required["name"]))
            {
                yield return $"required query parameter '{required["name"]}' was not sent";
            }
        }

        var requestBody = operation.Definition["requestBody"]?.AsObject();
        if (requestBody is null)
        {
            if (body.Length > 0)
            {
                yield return "a body was sent, and the document describes none";
            }
            yield break;
        }
        if (body.Length == 0)
        {
            if (requestBody["required"]?.GetValue<bool>() == true)
            {
                yield return "the document says the body is required, and the API accepted none";
            }
            yield break;
        }
        var content = requestBody["content"]!.AsObject();
        if (mediaType is null || !content.ContainsKey(mediaType))
        {
            yield return $"body of type {mediaType ?? "(none)"}, the document allows {string.Join(", ", content.Select(c => c.Key))}";
            yield break;
        }
        if (IsJson(mediaType) && content[mediaType]?["schema"] is JsonObject bodySchema)
        {
            foreach (var error in Validate($"{operation.Key} request", bodySchema, body))
            {
                yield return "request body: " + error;
            }
        }
    }

    /// <summary>What is wrong with a response, judged by the document (empty when nothing is).</summary>
    public IEnumerable<string> CheckResponse(Operation operation, int status, string? mediaType, byte[] body)
    {
        var responses = operation.Definition["responses"]!.AsObject();
        var code = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var response = responses[code] ?? responses[$"{code[0]}XX"] ?? responses["default"];
        if (response is null)
        {
            yield return $"status {status} is not in the document (it declares {string.Join(", ", responses.Select(r => r.Key))})";
            yield break;
        }
        var content = response["content"]?.AsObject();
        if (body.Length == 0)
        {
            // A declared body that never comes is as wrong as an undeclared one (a client would try to parse it).
            if (content is { Count: > 0 } && status != 101)
            {
                yield return $"status {status} came without a body, and the document declares {string.Join(", ", content.Select(c => c.Key))}";
            }
            yield break;
        }
        if (content is null || mediaType is null || !content.ContainsKey(mediaType))
        {
            yield return $"status {status} came with {mediaType ?? "(no type)"}, and the document declares {(content is null ? "no body" : string.Join(", ", content.Select(c => c.Key)))}";
            yield break;
        }
        if (IsJson(mediaType) && content[mediaType]?["schema"] is JsonObject schema)
        {
            foreach (var error in Validate($"{operation.Key} {status} {mediaType}", schema, body))
            {
                yield return $"status {status} body: " + error;
            }
        }
    }

    private static JsonObject? ExplodedPropertySchema(List<JsonObject> parameters, string name)
    {
        foreach (var parameter in parameters.Where(p => (string?)p["in"] == "query" && p["schema"]?["type"]?.ToString() == "object"
            && (string?)p["style"] is null or "form" && p["explode"]?.GetValue<bool>() != false))
        {
            var schema = parameter["schema"]!;
            if (schema["properties"]?[name] is JsonObject property)
            {
                return property;
            }
            foreach (var (pattern, patternSchema) in schema["patternProperties"]?.AsObject() ?? [])
            {
                if (Regex.IsMatch(name, pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))
                {
                    return patternSchema as JsonObject;
                }
            }
        }
        return null;
    }

    private static bool IsJson(string mediaType) => mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    private List<string> Validate(string key, JsonObject schema, byte[] body)
    {
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return [$"not JSON: {e.Message}"];
        }
        using (instance)
        {
            var results = Schema(key, schema).Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (results.IsValid)
            {
                return [];
            }
            var errors = (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))
                .Take(8)
                .ToList();
            return errors.Count > 0 ? errors : ["does not match the schema"];
        }
    }

    // A query value is text; it fits when the text itself or the JSON it spells (a number, a boolean) passes the schema.
    private bool QueryValueFits(JsonObject schema, string value)
    {
        var schemaKey = "query " + schema.ToJsonString();
        var compiled = Schema(schemaKey, schema);
        using var text = JsonDocument.Parse(JsonSerializer.Serialize(value));
        if (compiled.Evaluate(text.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Flag }).IsValid)
        {
            return true;
        }
        try
        {
            using var literal = JsonDocument.Parse(value);
            return compiled.Evaluate(literal.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Flag }).IsValid;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private JsonSchema Schema(string key, JsonObject schema) => _schemas.GetOrAdd(key, _ =>
    {
        // One schema document per use: the use's schema beside every component as $defs, with a base URI of its own so
        // the registry keeps them apart.
        var root = new JsonObject
        {
            ["$schema"] = Dialect,
            ["$defs"] = _definitions.DeepClone(),
            ["allOf"] = new JsonArray(JsonNode.Parse(RewriteReferences(schema.ToJsonString()))),
        };
        var id = Interlocked.Increment(ref _schemaCount);
        using var document = JsonDocument.Parse(root.ToJsonString());
        return JsonSchema.Build(document.RootElement.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"https://contract.test/schema/{id}"));
    });

    private static string RewriteReferences(string json) => json.Replace("\"#/components/schemas/", "\"#/$defs/", StringComparison.Ordinal);

    private static Regex Template(string path) =>
        new("^" + PathParameter().Replace(Regex.Escape(path).Replace("\\{", "{", StringComparison.Ordinal), "[^/]+") + "$", RegexOptions.CultureInvariant);

    [GeneratedRegex(@"\{[^/}]+\}")]
    private static partial Regex PathParameter();

    /// <summary>One operation of the document: its method, path template and definition.</summary>
    public sealed record Operation(string Method, string Path, Regex Pattern, JsonObject Definition)
    {
        public string Key => $"{Method} {Path}";

        public int LiteralSegments => Path.Split('/').Count(s => !s.StartsWith('{'));
    }
}
