using Edge.Testing;

namespace Edge.Api.Tests.Docs;

/// <summary>docs/reference/api.md is exactly what docs/openapi/v1.json renders to.</summary>
public sealed class ApiReferenceTests
{
    /// <summary>Set to 1 to rewrite the generated pages after an intended change.</summary>
    private const string UpdateVariable = "EDGE_UPDATE_DOCS";

    [Fact]
    public void The_committed_api_reference_is_generated_from_the_openapi_document()
    {
        var rendered = ApiReference.Render(File.ReadAllText(RepositoryPaths.File("docs", "openapi", "v1.json")));
        var path = RepositoryPaths.File("docs", "reference", "api.md");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, rendered);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run {UpdateVariable}=1 dotnet test tests/Edge.Api.Tests --filter ApiReferenceTests");
        Assert.True(File.ReadAllText(path) == rendered,
            $"docs/reference/api.md differs from what docs/openapi/v1.json renders to; run {UpdateVariable}=1 dotnet test tests/Edge.Api.Tests --filter ApiReferenceTests and commit the file");
    }

    [Fact]
    public void Every_operation_of_the_document_has_a_section_and_a_row()
    {
        var json = File.ReadAllText(RepositoryPaths.File("docs", "openapi", "v1.json"));
        var rendered = ApiReference.Render(json);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                var id = method.Value.GetProperty("operationId").GetString();
                Assert.Contains($"\n### {id}\n\n`{method.Name.ToUpperInvariant()} {path.Name}`", rendered);
                Assert.Contains($"[`{path.Name}`](#{id!.ToLowerInvariant()})", rendered);
            }
        }
    }
}
