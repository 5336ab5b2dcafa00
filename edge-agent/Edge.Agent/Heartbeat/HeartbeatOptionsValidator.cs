using Microsoft.Extensions.Options;

namespace Edge.Agent.Heartbeat;

/// <summary>The data annotations on <see cref="HeartbeatOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class HeartbeatOptionsValidator : IValidateOptions<HeartbeatOptions>;
