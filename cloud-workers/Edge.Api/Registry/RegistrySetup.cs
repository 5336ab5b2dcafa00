using Edge.Api.Audit;
using Edge.Storage;

namespace Edge.Api.Registry;

/// <summary>Registers the serial registry's store (clinics, gateways, devices, and their audited changes) over the registry database.</summary>
internal static class RegistrySetup
{
    public static void AddRegistry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new RegistryStore(
            sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<AuditTrail>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<DeviceAlertCounts>();
    }
}
