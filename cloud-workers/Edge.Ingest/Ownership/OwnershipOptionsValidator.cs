using Microsoft.Extensions.Options;

namespace Edge.Ingest.Ownership;

/// <summary>The data annotations on <see cref="OwnershipOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class OwnershipOptionsValidator : IValidateOptions<OwnershipOptions>;
