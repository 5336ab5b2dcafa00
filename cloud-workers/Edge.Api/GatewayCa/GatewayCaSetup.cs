using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Edge.Api.GatewayCa;

/// <summary>Registers the gateway CA (on-prem certificates and their renewal) and its settings, checked at start.</summary>
internal static class GatewayCaSetup
{
    public static void AddGatewayCa(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayCaOptions>().BindConfiguration(GatewayCaOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayCaOptions>, GatewayCaOptionsValidator>());
        builder.Services.AddSingleton<GatewayCertificateAuthority>();
    }
}
