using System.Text.RegularExpressions;
using Edge.Api.Auth;
using Edge.Api.Http;

namespace Edge.Api.Registry;

/// <summary>The registry's clinics: create (admins), list and read.</summary>
internal static partial class RegistryEndpoints
{
    private static void MapClinics(RouteGroupBuilder group)
    {
        group.MapPost("/v1/clinics", CreateClinicAsync).RequireAuthorization(ApiPolicies.ClinicsManage)
            .WithName("CreateClinic").WithSummary("Creates a clinic (idempotent).")
            .WithDescription("Ids are 1-63 lower-case letters, digits and dashes. 201 with the new clinic; the same request again answers 200 with it; the same id with another name is 409. Written to the audit log.")
            .Produces<Clinic>(StatusCodes.Status201Created).Produces<Clinic>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/v1/clinics", ListClinicsAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListClinics").WithSummary("Clinics the caller may see.")
            .WithDescription("Clinics the caller's token names (every clinic for an admin), by id. Keyset-paged with limit (1-500, default 50) and cursor (the previous page's next_cursor).").Produces<Page<Clinic>>().ProducesValidationProblem();
        group.MapGet("/v1/clinics/{id}", GetClinicAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetClinic").WithSummary("One clinic.")
            .WithDescription("404 for an unknown clinic or one the caller may not see.").Produces<Clinic>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex ClinicIdFormat();


    private static async Task<IResult> CreateClinicAsync(
        CreateClinicRequest request, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.Id) || !ClinicIdFormat().IsMatch(request.Id))
        {
            errors.Add("id", "is required: 1-63 lower-case letters, digits and dashes, starting with a letter or digit");
        }
        CheckName(request.Name, "name", errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var change = await registry.CreateClinicAsync(request.Id!, request.Name!.Trim(), caller, cancellationToken);
        return Answer(change, $"/v1/clinics/{request.Id}", $"No clinic {request.Id}.");
    }

    private static async Task<IResult> ListClinicsAsync(Caller caller, RegistryStore registry, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var rows = await registry.ListClinicsAsync(caller.ClinicScope, after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(rows, take, c => c.Id));
    }

    private static async Task<IResult> GetClinicAsync(string id, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var clinic = caller.CanSeeClinic(id) ? await registry.GetClinicAsync(id, cancellationToken) : null;
        return clinic is null ? Problems.NotFound($"No clinic {id}.") : TypedResults.Ok(clinic);
    }
}
