using Microsoft.Extensions.Options;

namespace Edge.Ingest.Alerts;

/// <summary>The data annotations on <see cref="AlertSweepOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AlertSweepOptionsValidator : IValidateOptions<AlertSweepOptions>;
