using Microsoft.Extensions.Options;

namespace Edge.Agent.Journal;

/// <summary>The data annotations on <see cref="JournalOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class JournalOptionsValidator : IValidateOptions<JournalOptions>;
