using Microsoft.Extensions.Options;

namespace Edge.Agent.Uplink;

/// <summary>The data annotations on <see cref="UplinkOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class UplinkOptionsValidator : IValidateOptions<UplinkOptions>;
