using Microsoft.Extensions.Options;
using Edge.Storage;

namespace Edge.Api.Accounts;

/// <summary>Registers local accounts: their options, store, password hashing and sessions.</summary>
internal static class AccountSetup
{
    public static void AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AccountOptions>, AccountOptionsValidator>();
        builder.Services.AddSingleton(sp => new AccountStore(sp.GetRequiredService<StoreFactory>().Registry));
        builder.Services.AddSingleton<Passwords>();
        builder.Services.AddSingleton<AccountSessions>();
    }
}
