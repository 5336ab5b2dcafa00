using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Edge.Api.Fhir;

/// <summary>
/// Refusals under <c>/fhir/</c> as FHIR clients read them: 401 and 403 with an OperationOutcome body saying why. Every
/// other path keeps the default (an empty 401 with its challenge, an empty 403).
/// </summary>
internal sealed class FhirAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async System.Threading.Tasks.Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!FhirEndpoints.IsFhirPath(context.Request.Path) || authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        if (authorizeResult.Challenged)
        {
            // The scheme's challenge sets 401 and WWW-Authenticate: Bearer; the body says the same to a FHIR client.
            await context.ChallengeAsync();
            await FhirResults.WriteAsync(context, FhirResults.OutcomeOf(OperationOutcome.IssueType.Login,
                "A bearer token is required: an access token with a role, the clinics, and a SMART scope such as system/*.read."), StatusCodes.Status401Unauthorized);
            return;
        }
        await FhirResults.WriteAsync(context, FhirResults.OutcomeOf(OperationOutcome.IssueType.Forbidden,
            "The token may not read the FHIR API: it needs the role admin, technician or clinician and a SMART read scope (system/*.read or system/{Type}.read) in its scope claim."),
            StatusCodes.Status403Forbidden);
    }
}
