using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Edge.Api.Hosting;

/// <summary>Adds what the generated document cannot know: the title, the bearer scheme, and where the payload schemas live.</summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Clinic Edge API",
            Version = "v1",
            Description = "Serial registry, telemetry queries, alerts, audit log and live stream. Device payload JSON Schemas: docs/schemas/v1/.",
        };
        // The document describes the API wherever it is deployed: no server URL of the host that generated it.
        document.Servers = [];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT with role and clinic claims; see docs/api.md.",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
        return Task.CompletedTask;
    }
}
