using Microsoft.Extensions.Options;

namespace Edge.Api.Fleet;

/// <summary>The data annotations on <see cref="FleetOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class FleetOptionsValidator : IValidateOptions<FleetOptions>;
