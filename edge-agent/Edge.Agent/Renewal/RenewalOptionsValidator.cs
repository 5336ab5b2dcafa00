using Microsoft.Extensions.Options;

namespace Edge.Agent.Renewal;

/// <summary>The data annotations on <see cref="RenewalOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class RenewalOptionsValidator : IValidateOptions<RenewalOptions>;
