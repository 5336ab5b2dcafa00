using Microsoft.Extensions.Options;

namespace Edge.Api.Fhir;

/// <summary>The data annotations on <see cref="FhirOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class FhirOptionsValidator : IValidateOptions<FhirOptions>;
