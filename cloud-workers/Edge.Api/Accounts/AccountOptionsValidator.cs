using Microsoft.Extensions.Options;

namespace Edge.Api.Accounts;

/// <summary>The data annotations on <see cref="AccountOptions"/>, checked by generated code rather than by reflection at start.</summary>
[OptionsValidator]
internal sealed partial class AccountOptionsValidator : IValidateOptions<AccountOptions>;
