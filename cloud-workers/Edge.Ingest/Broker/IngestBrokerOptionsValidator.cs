using Microsoft.Extensions.Options;

namespace Edge.Ingest.Broker;

/// <summary>The data annotations on <see cref="IngestBrokerOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class IngestBrokerOptionsValidator : IValidateOptions<IngestBrokerOptions>;
