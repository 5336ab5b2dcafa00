using Microsoft.Extensions.Options;

namespace Edge.Agent.Hosting;

/// <summary>The data annotations on <see cref="AgentOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AgentOptionsValidator : IValidateOptions<AgentOptions>;
