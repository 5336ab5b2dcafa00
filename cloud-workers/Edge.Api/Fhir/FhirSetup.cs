using Microsoft.AspNetCore.Authorization;

namespace Edge.Api.Fhir;

/// <summary>Registers the FHIR API's settings, its access helper and its refusals.</summary>
public static class FhirSetup
{
    public static void AddFhir(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FhirOptions>().BindConfiguration(FhirOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => Uri.TryCreate(o.PatientIdentifierSystem, UriKind.Absolute, out _),
                "Api:Fhir:PatientIdentifierSystem must be an absolute URI (e.g. urn:oid:… or https://hospital.example/mrn).")
            .ValidateOnStart();
        builder.Services.AddSingleton<FhirAccess>();
        builder.Services.AddSingleton<FhirExportJobs>();
        builder.Services.AddSingleton<FhirExportRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FhirExportRunner>());
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, FhirAuthorizationResults>();
    }
}
