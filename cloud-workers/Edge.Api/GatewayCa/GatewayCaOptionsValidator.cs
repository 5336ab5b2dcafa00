using Microsoft.Extensions.Options;

namespace Edge.Api.GatewayCa;

/// <summary>The data annotations on <see cref="GatewayCaOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class GatewayCaOptionsValidator : IValidateOptions<GatewayCaOptions>;
