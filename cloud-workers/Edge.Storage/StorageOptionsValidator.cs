using Microsoft.Extensions.Options;

namespace Edge.Storage;

/// <summary>The data annotations on <see cref="StorageOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
