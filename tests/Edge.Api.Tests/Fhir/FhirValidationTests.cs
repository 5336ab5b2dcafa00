using Hl7.Fhir.Model;

namespace Edge.Api.Tests.Fhir;

/// <summary>The validator the FHIR tests rely on does find errors: a test that validates is only as good as this.</summary>
public sealed class FhirValidationTests
{
    [Fact]
    public void An_Observation_without_status_and_code_and_with_a_bad_unit_system_fails()
    {
        var broken = new Observation
        {
            Id = "broken",
            Component = [new Observation.ComponentComponent { Value = new Quantity { Value = 1, Code = "ms" } }],
        };

        var error = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => FhirValidation.AssertValid(broken));

        Assert.Contains("Missing required member: 'status'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Missing required member: 'code'", error.Message, StringComparison.Ordinal);
        Assert.Contains("qty-3", error.Message, StringComparison.Ordinal);
    }
}
