using Edge.Storage;
using Edge.Storage.Quarantine;

namespace Edge.Api.Quarantine;

/// <summary>Registers the quarantine's store (readings held back from unknown or foreign devices).</summary>
internal static class QuarantineSetup
{
    public static void AddQuarantine(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton(sp => new QuarantineStore(sp.GetRequiredService<StoreFactory>().Registry));
}
