using Microsoft.Extensions.Options;

namespace Edge.Storage.Alerts;

/// <summary>The data annotations on <see cref="AlertOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AlertOptionsValidator : IValidateOptions<AlertOptions>;
