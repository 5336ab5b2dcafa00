using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Edge.Api.Fhir;

/// <summary>Registers the FHIR API's settings, its access helper and its refusals (authorization's and every problem document's).</summary>
internal static class FhirSetup
{
    public static void AddFhir(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FhirOptions>().BindConfiguration(FhirOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FhirOptions>, FhirOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FhirOptions>, FhirOptionsRules>());
        builder.Services.AddSingleton<FhirAccess>();
        builder.Services.AddSingleton<FhirExportJobs>();
        builder.Services.AddSingleton<FhirExportRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FhirExportRunner>());
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, FhirAuthorizationResults>();
        // First among the problem writers: the problem details service asks each in turn and the default accepts any path.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, FhirProblemWriter>());
    }
}
