using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace Edge.Api.Tests.Fhir;

/// <summary>
/// Firely's validator against the base R4 specification (specification.zip of Hl7.Fhir.Specification.Data.R4, copied to
/// the test output), and the SDK's parser for what the API answers.
/// </summary>
internal static class FhirValidation
{
    private static readonly Lazy<Validator> s_validator = new(() =>
    {
        var source = new CachedResolver(ZipSource.CreateValidationSource());
        return new Validator(source, new LocalTerminologyService(source));
    });

    private static readonly Lock s_gate = new();

    public static readonly FhirJsonDeserializer Parser = new(new DeserializerSettings());

    /// <summary>Parses the body as a resource of type <typeparamref name="T"/> (the SDK refuses anything not valid FHIR JSON).</summary>
    public static T Parse<T>(string json) where T : Resource => Assert.IsType<T>(Parser.DeserializeResource(json));

    /// <summary>Asserts the resource validates with no error or fatal issue; the message lists them with their location.</summary>
    public static void AssertValid(Resource resource)
    {
        OperationOutcome outcome;
        lock (s_gate)
        {
            // One validator for the test run: building its schema cache from the zip is the slow part.
            outcome = s_validator.Value.Validate(resource);
        }
        var errors = outcome.Issue
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"{i.Severity} {i.Code} at {string.Join(",", i.Expression)}: {i.Details?.Text ?? i.Diagnostics}")
            .ToList();
        Assert.True(errors.Count == 0, $"{resource.TypeName}/{resource.Id} has {errors.Count} validation errors:\n{string.Join('\n', errors)}");
    }
}
