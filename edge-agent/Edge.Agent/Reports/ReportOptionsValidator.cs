using Microsoft.Extensions.Options;

namespace Edge.Agent.Reports;

/// <summary>The data annotations on <see cref="ReportOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class ReportOptionsValidator : IValidateOptions<ReportOptions>;
