using Microsoft.Extensions.Options;

namespace Edge.Agent.Ingest;

/// <summary>The data annotations on <see cref="LaneOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class LaneOptionsValidator : IValidateOptions<LaneOptions>;
