using Microsoft.Extensions.Options;

namespace Edge.Api.Auth;

/// <summary>The data annotations on <see cref="AuthOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AuthOptionsValidator : IValidateOptions<AuthOptions>;
