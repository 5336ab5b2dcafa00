using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Edge.Api.Hosting;

/// <summary>
/// A <see cref="JsonElement"/> property is any JSON value the API passes through (a reading's payload, an audit entry's
/// before and after): its schema is the empty schema, which already allows null. The generator wraps a nullable one
/// in <c>oneOf: [null, {}]</c>, which no null can pass (it matches both), so the owning type's schema gets the empty
/// schema for such a property instead.
/// </summary>
internal sealed class ApiSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Properties is null || context.JsonTypeInfo.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
        {
            return Task.CompletedTask;
        }
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if ((property.PropertyType == typeof(JsonElement) || property.PropertyType == typeof(JsonElement?))
                && schema.Properties.TryGetValue(property.Name, out var generated))
            {
                // The generated wrapper has lost the property's description; [property: Description] on the record keeps it.
                var described = property.AttributeProvider?.GetCustomAttributes(typeof(DescriptionAttribute), inherit: false).OfType<DescriptionAttribute>().FirstOrDefault();
                schema.Properties[property.Name] = new OpenApiSchema { Description = described?.Description ?? generated.Description ?? "Any JSON value, as stored." };
            }
        }
        return Task.CompletedTask;
    }
}
