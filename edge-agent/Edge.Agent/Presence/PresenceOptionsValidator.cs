using Microsoft.Extensions.Options;

namespace Edge.Agent.Presence;

/// <summary>The data annotations on <see cref="PresenceOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class PresenceOptionsValidator : IValidateOptions<PresenceOptions>;
