using Edge.Storage;

namespace Edge.Api.Audit;

/// <summary>Registers the audit trail every change (and every FHIR read) is written to.</summary>
internal static class AuditSetup
{
    public static void AddAudit(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton(sp => new AuditTrail(sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>()));
}
