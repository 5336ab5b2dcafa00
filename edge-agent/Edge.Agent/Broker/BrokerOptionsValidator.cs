using Microsoft.Extensions.Options;

namespace Edge.Agent.Broker;

/// <summary>The data annotations on <see cref="BrokerOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class BrokerOptionsValidator : IValidateOptions<BrokerOptions>;
