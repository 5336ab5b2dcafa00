using Microsoft.Extensions.Options;

namespace Edge.Api.RateLimit;

/// <summary>The data annotations on <see cref="RateLimitOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>;
