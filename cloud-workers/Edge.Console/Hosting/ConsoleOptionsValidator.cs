using Microsoft.Extensions.Options;

namespace Edge.Console.Hosting;

/// <summary>The data annotations on <see cref="ConsoleOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>;
