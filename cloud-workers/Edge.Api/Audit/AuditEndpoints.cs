using System.Globalization;
using Edge.Api.Auth;
using Edge.Api.Http;
using Microsoft.AspNetCore.Mvc;

namespace Edge.Api.Audit;

/// <summary><c>GET /v1/audit</c>: the audit log, newest first: every row for admins, their clinics' rows (redacted) for auditors.</summary>
internal static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/audit", ListAsync)
            .WithTags("Audit")
            .RequireAuthorization(ApiPolicies.AuditRead)
            .WithName("ListAudit")
            .WithSummary("Audit log entries, newest first, filtered by target or actor.")
            .WithDescription("Every mutating request writes one entry in the same transaction as the change. Admins read every entry as written; auditors read their clinics' entries, without patient data (owner, report) and with the side of a transfer outside their clinics as null. Keyset-paged with limit and cursor.")
            .Produces<Page<AuditEntry>>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> ListAsync(
        AuditTrail audit,
        Caller caller,
        [FromQuery(Name = "target_type")] string? targetType,
        [FromQuery(Name = "target_id")] string? targetId,
        string? actor,
        int? limit,
        string? cursor,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        long? beforeId = null;
        if (after is not null)
        {
            if (long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                beforeId = id;
            }
            else
            {
                errors.Add("cursor", "is not a cursor this API returned");
            }
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        // Auditors read their clinics' rows only, without patient data (AuditRedaction); admins read every row.
        var rows = await audit.ListAsync(beforeId, targetType, targetId, actor, take + 1, caller.ClinicScope, cancellationToken);
        var page = PageRequest.From(rows, take, e => e.Id.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(page with { Items = page.Items.Select(e => AuditRedaction.ForReader(e, caller)).ToList() });
    }
}
