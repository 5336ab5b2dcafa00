using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Edge.Api.Hosting;

/// <summary>
/// Which operations need the bearer token, and the responses every operation can give whatever its handler does, in
/// one place instead of on each endpoint: 401 and 403 from authorization (the status-code pages write them as problem
/// documents), 429 from the rate limiter, and 400 when a body or a typed parameter cannot be read (the exception
/// handler names what the reader found).
/// </summary>
internal sealed class ApiOperationTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= [];
        var authorized = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        if (!authorized)
        {
            // The document's bearer requirement applies to every operation; these take another credential (a password,
            // a refresh token, the gateway's TLS client certificate) and say so with an empty requirement.
            operation.Security = [];
        }
        else
        {
            Add(operation, context, "401", "No token, or one that is expired, forged or malformed.");
            Add(operation, context, "403", "The token's roles do not allow this, or it names a clinic the caller may not act in.");
        }
        // Route constraints ({id:guid}) answer 404 when they do not match, so only the body and the query can fail binding.
        var readsInput = context.Description.ParameterDescriptions.Any(p =>
            p.Source.Id is "Body" or "Form" || (p.Source.Id == "Query" && p.Type != typeof(string)));
        if (readsInput)
        {
            Add(operation, context, "400", "The request could not be read, or a parameter is not valid (`errors` names it).");
        }
        Add(operation, context, "429", "Over the caller's request budget; Retry-After says when to come back (docs/api.md, rate limits).");
        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, OpenApiOperationTransformerContext context, string status, string description)
    {
        if (operation.Responses!.ContainsKey(status))
        {
            return;
        }
        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
            },
        };
    }
}
