using Microsoft.Extensions.Options;

namespace Edge.Agent.Clock;

/// <summary>The data annotations on <see cref="ClockOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class ClockOptionsValidator : IValidateOptions<ClockOptions>;
