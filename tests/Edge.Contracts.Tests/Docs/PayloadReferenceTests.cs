namespace Edge.Contracts.Tests.Docs;

/// <summary>docs/reference/payloads.md is exactly what the JSON Schemas render to.</summary>
public sealed class PayloadReferenceTests
{
    /// <summary>Set to 1 to rewrite the generated pages after an intended change.</summary>
    private const string UpdateVariable = "EDGE_UPDATE_DOCS";

    [Fact]
    public void The_committed_payload_reference_is_generated_from_the_schemas()
    {
        var schemas = Directory.GetFiles(RepositoryPaths.File("docs", "schemas", "v1"), "*.schema.json")
            .Select(path => (Path.GetFileName(path), File.ReadAllText(path)));
        var rendered = PayloadReference.Render(schemas);
        var path = RepositoryPaths.File("docs", "reference", "payloads.md");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, rendered);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run {UpdateVariable}=1 dotnet test tests/Edge.Contracts.Tests --filter PayloadReferenceTests");
        Assert.True(File.ReadAllText(path) == rendered,
            $"docs/reference/payloads.md differs from what docs/schemas/v1/ renders to; after an intended schema change run {UpdateVariable}=1 dotnet test tests/Edge.Contracts.Tests --filter PayloadReferenceTests and commit the file");
    }

    [Fact]
    public void Every_schema_and_every_field_is_on_the_page()
    {
        var rendered = PayloadReference.Render(
            Directory.GetFiles(RepositoryPaths.File("docs", "schemas", "v1"), "*.schema.json").Select(p => (Path.GetFileName(p), File.ReadAllText(p))));

        Assert.Contains("| `metrics.oxygen_purity_pct` | number | yes | 0 to 100 |", rendered);
        Assert.Contains("| `metrics.battery_pct` | number or null | no | 0 to 100 |", rendered);
        Assert.Contains("`cpap-config.schema.json`", rendered);
        Assert.Contains("`ecg-report.schema.json`", rendered);
    }

    [Fact]
    public void A_schema_keyword_the_generator_does_not_know_fails_loudly()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PayloadReference.Render(
            [("x.schema.json", """{"title":"X","description":"d","type":"object","properties":{"a":{"oneOf":[]}}}""")]));
        Assert.Contains("'a' uses 'oneOf'", error.Message);
    }
}
