using Microsoft.Extensions.Options;

namespace Edge.Ingest.Broker;

/// <summary>The data annotations on <see cref="IngestWorkerOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class IngestWorkerOptionsValidator : IValidateOptions<IngestWorkerOptions>;
