using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>The data annotations on <see cref="AdminOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AdminOptionsValidator : IValidateOptions<AdminOptions>;
