using Edge.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Edge.Api.Fleet;

/// <summary>Registers the fleet view (gateways' health, devices' presence) and its settings, checked at start.</summary>
internal static class FleetSetup
{
    public static void AddFleet(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FleetOptions>().BindConfiguration(FleetOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FleetOptions>, FleetOptionsValidator>());
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<FleetStore>(sp, sp.GetRequiredService<StoreFactory>().Registry));
    }
}
