using Microsoft.Extensions.Options;

namespace Edge.Api.Fhir;

/// <summary>What annotations cannot say about <see cref="FhirOptions"/>: the patient identifier system is an absolute URI.</summary>
internal sealed class FhirOptionsRules : IValidateOptions<FhirOptions>
{
    public ValidateOptionsResult Validate(string? name, FhirOptions options) =>
        string.IsNullOrEmpty(options.PatientIdentifierSystem) || Uri.TryCreate(options.PatientIdentifierSystem, UriKind.Absolute, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Api:Fhir:PatientIdentifierSystem must be an absolute URI (e.g. urn:oid:… or https://hospital.example/mrn).");
}
