using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Contracts;

/// <summary>The OpenAPI document the API serves is the one committed as docs/openapi/v1.json.</summary>
[Collection(PostgresServer.Collection)]
public sealed class OpenApiDocumentTests(PostgresServer server) : ApiTest(server)
{
    /// <summary>Set to 1 to rewrite docs/openapi/v1.json from the running API after an intended change.</summary>
    private const string UpdateVariable = "EDGE_UPDATE_OPENAPI";

    // Relaxed escaping keeps "application/problem+json" readable in the committed file.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public async Task The_served_document_equals_the_committed_one()
    {
        var response = await Api.Client(null).GetAsync("/openapi/v1.json");
        var served = await ReadAsync(response, HttpStatusCode.OK);
        var pretty = JsonSerializer.Serialize(served, Indented) + "\n";
        var path = RepositoryPaths.File("docs", "openapi", "v1.json");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, pretty);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run {UpdateVariable}=1 dotnet test tests/Edge.Api.Tests --filter OpenApiDocumentTests");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(path));
        Assert.True(JsonNode.DeepEquals(committed, JsonNode.Parse(pretty)),
            $"docs/openapi/v1.json differs from the served document; after an intended API change run {UpdateVariable}=1 dotnet test tests/Edge.Api.Tests --filter OpenApiDocumentTests and commit the file");
    }

    [Fact]
    public async Task Every_operation_says_it_needs_a_bearer_token_and_has_an_id()
    {
        var document = await ReadAsync(await Api.Client(null).GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("operationId", out _), $"{operation.Name} {path.Name} has no operationId");
            }
        }
    }
}
