using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Edge.Api.Hosting;

/// <summary>
/// Adds what the generated document cannot know: the title, licence and contact, the server, the bearer scheme, what
/// each tag is about, and where the payload schemas live.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    /// <summary>Every tag an endpoint names (<c>WithTags</c>) and what its operations are about.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Tags = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Registry"] = "Clinics, gateways and devices: registration (idempotent), transfer, retirement, gateway certificates.",
        ["Telemetry"] = "Stored readings of a device: pages, hourly or daily summaries, and the live stream.",
        ["Analytics"] = "Clinical summaries over a period: one device's, and a clinic's devices side by side.",
        ["Alerts"] = "Alerts the ingest workers raised, and their lifecycle: open, acknowledged, resolved.",
        ["Webhooks"] = "Signed HTTP deliveries of alerts to integrations, and the deliveries that used up their attempts.",
        ["Audit"] = "Who changed what and when: one entry per mutating request, written in the same transaction.",
        ["Config"] = "Desired device configs: push a new version to a device through its gateway, and follow its state.",
        ["Firmware"] = "Firmware jobs: offer a firmware version to devices of one kind and follow each device's progress.",
        ["Reports"] = "ECG reports: direct uploads, the list per device, and the PDF itself.",
        ["Quarantine"] = "Readings held at ingest because the sending gateway does not own the serial.",
        ["Dead letters"] = "What the ingest workers could not read or store: dead-lettered batches and rejected readings, and their requeue.",
        ["Accounts"] = "Local accounts (local-key mode): sign-in, refresh, sign-out, the caller, and user administration.",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Clinic Edge API",
            Version = "v1",
            Description = "Serial registry, telemetry queries, alerts, audit log and live stream. Device payload JSON Schemas: docs/schemas/v1/. " +
                "Every error is an RFC 7807 problem document (application/problem+json); a 400 names each bad field in `errors`.",
            Contact = new OpenApiContact { Name = "Clinic Edge" },
            // Not open source: SPDX has no identifier for that, so a LicenseRef- one (npm says "UNLICENSED").
            License = new OpenApiLicense { Name = "Proprietary", Identifier = "LicenseRef-Proprietary" },
        };
        // The document describes the API wherever it is deployed: the host is a variable, never the host that generated it.
        document.Servers =
        [
            new OpenApiServer
            {
                Url = "{scheme}://{host}",
                Description = "Your deployment of edge-api (./run.sh serves it on http://127.0.0.1:8080).",
                Variables = new Dictionary<string, OpenApiServerVariable>
                {
                    ["scheme"] = new() { Default = "https", Enum = ["https", "http"], Description = "https in production; http only on loopback." },
                    ["host"] = new() { Default = "127.0.0.1:8080", Description = "The API's host name and port." },
                },
            },
        ];
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
        foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
        {
            // A tag without a description here is a new feature's: the lint test (OpenApiLintTests) names it.
            tag.Description = tag.Name is { } name && Tags.TryGetValue(name, out var description) ? description : tag.Description;
        }
        return Task.CompletedTask;
    }
}
