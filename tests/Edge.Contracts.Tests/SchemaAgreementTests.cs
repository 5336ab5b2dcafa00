using System.Collections.Concurrent;
using System.Text.Json;
using NJsonSchema;

namespace Edge.Contracts.Tests;

/// <summary>The published JSON Schemas and <see cref="Validation.PayloadValidator"/> must agree on every sample.</summary>
public sealed class SchemaAgreementTests
{
    private static readonly ConcurrentDictionary<PayloadKind, Task<JsonSchema>> Schemas = new();

    public static TheoryData<string> ValidSamples => new(SampleCatalog.All.Where(s => s.IsValid).Select(s => s.File));

    public static TheoryData<string> InvalidSamples => new(SampleCatalog.All.Where(s => !s.IsValid).Select(s => s.File));

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public async Task Valid_sample_is_accepted_by_both_the_schema_and_the_validator(string file)
    {
        var sample = SampleCatalog.Get(file);
        var json = await File.ReadAllTextAsync(sample.FullPath);

        var schemaErrors = (await SchemaFor(sample.Kind)).Validate(json);
        var validated = SampleCatalog.Validate(sample.Kind, json);

        Assert.True(schemaErrors.Count == 0, $"schema refused {file}: {string.Join("; ", schemaErrors)}");
        Assert.True(validated.IsValid, $"validator refused {file}: {validated.Summary}");
    }

    [Theory]
    [MemberData(nameof(InvalidSamples))]
    public async Task Invalid_sample_is_refused_by_both_on_the_expected_field(string file)
    {
        var sample = SampleCatalog.Get(file);
        var json = await File.ReadAllTextAsync(sample.FullPath);

        var schemaErrors = (await SchemaFor(sample.Kind)).Validate(json);
        var validated = SampleCatalog.Validate(sample.Kind, json);

        Assert.True(schemaErrors.Count > 0, $"schema accepted {file}");
        // NJsonSchema paths read "#/metrics.qt_ms": the same dotted field, so both must blame the same one.
        Assert.True(schemaErrors.Any(e => e.Path == "#/" + sample.ExpectedField),
            $"expected the schema to refuse '{sample.ExpectedField}' in {file}, got: {string.Join("; ", schemaErrors.Select(e => $"{e.Path}: {e.Kind}"))}");
        Assert.False(validated.IsValid, $"validator accepted {file}");
        Assert.True(validated.Errors.Any(e => e.Field == sample.ExpectedField),
            $"expected an error on '{sample.ExpectedField}' for {file}, got: {validated.Summary}");
    }

    [Fact]
    public void Every_sample_file_has_a_catalog_entry_and_every_entry_has_a_file()
    {
        var samples = Path.Combine(AppContext.BaseDirectory, "Samples");
        var onDisk = Directory.GetFiles(Path.Combine(samples, "valid"), "*.json").Select(f => "valid/" + Path.GetFileName(f))
            .Concat(Directory.GetFiles(Path.Combine(samples, "invalid"), "*.json").Select(f => "invalid/" + Path.GetFileName(f)))
            .Order()
            .ToList();
        var catalogued = SampleCatalog.All.Select(s => (s.IsValid ? "valid/" : "invalid/") + s.File).Order().ToList();

        Assert.Equal(catalogued, onDisk);
    }

    [Fact]
    public void Every_payload_kind_has_a_draft_07_schema_with_id_title_and_a_description_on_every_field()
    {
        foreach (var kind in Enum.GetValues<PayloadKind>())
        {
            var path = Path.Combine(AppContext.BaseDirectory, "schemas", SampleCatalog.SchemaFileName(kind));
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;

            Assert.Equal("http://json-schema.org/draft-07/schema#", root.GetProperty("$schema").GetString());
            Assert.EndsWith("/v1/" + SampleCatalog.SchemaFileName(kind), root.GetProperty("$id").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
            AssertDescribed(root, SampleCatalog.SchemaFileName(kind));
        }
    }

    [Fact]
    public void Every_object_in_every_schema_allows_unknown_properties()
    {
        foreach (var kind in Enum.GetValues<PayloadKind>())
        {
            var path = Path.Combine(AppContext.BaseDirectory, "schemas", SampleCatalog.SchemaFileName(kind));
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            AssertOpen(doc.RootElement, SampleCatalog.SchemaFileName(kind));
        }
    }

    private static void AssertDescribed(JsonElement schema, string where)
    {
        Assert.True(schema.TryGetProperty("description", out var description) && description.GetString()!.Length > 0,
            $"{where} has no description");
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                AssertDescribed(property.Value, $"{where} > {property.Name}");
            }
        }
        if (schema.TryGetProperty("items", out var items))
        {
            AssertDescribed(items, $"{where} > items");
        }
    }

    private static void AssertOpen(JsonElement schema, string where)
    {
        if (schema.TryGetProperty("properties", out var properties))
        {
            Assert.True(schema.GetProperty("additionalProperties").GetBoolean(), $"{where} refuses unknown properties");
            foreach (var property in properties.EnumerateObject())
            {
                AssertOpen(property.Value, $"{where} > {property.Name}");
            }
        }
    }

    private static Task<JsonSchema> SchemaFor(PayloadKind kind) =>
        Schemas.GetOrAdd(kind, static k =>
            JsonSchema.FromFileAsync(Path.Combine(AppContext.BaseDirectory, "schemas", SampleCatalog.SchemaFileName(k))));
}
