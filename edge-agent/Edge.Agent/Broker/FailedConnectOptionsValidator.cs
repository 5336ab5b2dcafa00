using Microsoft.Extensions.Options;

namespace Edge.Agent.Broker;

/// <summary>The data annotations on <see cref="FailedConnectOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class FailedConnectOptionsValidator : IValidateOptions<FailedConnectOptions>;
