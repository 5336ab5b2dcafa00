using Microsoft.AspNetCore.Authorization;

namespace Edge.Api.Auth;

/// <summary>
/// One named policy per capability; every endpoint names exactly one (a test enumerates the endpoints and fails on any
/// without). Policies decide by role; which clinic's data a caller may touch is decided per request by <see cref="Caller"/>.
/// </summary>
internal static class ApiPolicies
{
    public const string ClinicsManage = "clinics.manage";
    public const string RegistryRead = "registry.read";
    public const string RegistryWrite = "registry.write";
    public const string GatewaysCertify = "gateways.certify";
    public const string TelemetryRead = "telemetry.read";
    public const string ConfigWrite = "config.write";
    public const string ConfigRead = "config.read";
    public const string FirmwareManage = "firmware.manage";
    public const string FirmwareRead = "firmware.read";
    public const string AlertsRead = "alerts.read";
    public const string AlertsManage = "alerts.manage";
    public const string WebhooksManage = "webhooks.manage";
    public const string AuditRead = "audit.read";
    public const string ReportsRead = "reports.read";
    public const string ReportsWrite = "reports.write";
    public const string QuarantineRead = "quarantine.read";
    public const string IngestLedgerManage = "ingest-ledger.manage";
    public const string UsersManage = "users.manage";

    /// <summary>The FHIR R4 read API (<c>/fhir/r4/</c>): the telemetry readers' roles, and a SMART read scope in the token.</summary>
    public const string FhirRead = "fhir.read";

    /// <summary>Any signed-in caller, about themselves: <c>GET /v1/me</c>, their password, signing out.</summary>
    public const string Self = "self";

    /// <summary>The roles each policy admits; docs/api.md prints the same table.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Roles = new Dictionary<string, string[]>
    {
        [ClinicsManage] = [ApiRoles.Admin],
        [RegistryRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician, ApiRoles.Auditor, ApiRoles.Gateway],
        [RegistryWrite] = [ApiRoles.Admin, ApiRoles.Technician],
        [GatewaysCertify] = [ApiRoles.Admin, ApiRoles.Technician],
        [TelemetryRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [ConfigWrite] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [ConfigRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician, ApiRoles.Auditor],
        [FirmwareManage] = [ApiRoles.Admin, ApiRoles.Technician],
        [FirmwareRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Auditor],
        [AlertsRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [AlertsManage] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [WebhooksManage] = [ApiRoles.Admin],
        [AuditRead] = [ApiRoles.Admin, ApiRoles.Auditor],
        [ReportsRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [ReportsWrite] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [QuarantineRead] = [ApiRoles.Admin],
        [IngestLedgerManage] = [ApiRoles.Admin],
        [UsersManage] = [ApiRoles.Admin],
        [FhirRead] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician],
        [Self] = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician, ApiRoles.Auditor, ApiRoles.Gateway],
    };

    public static void Add(AuthorizationOptions options)
    {
        foreach (var (name, roles) in Roles)
        {
            options.AddPolicy(name, policy => policy.RequireAuthenticatedUser().RequireRole(roles));
        }
        // FHIR clients hold a role as everyone does, and a SMART read scope on top (which resource type is checked by
        // each endpoint): a console user's token does not open the FHIR API.
        options.AddPolicy(FhirRead, policy => policy.RequireAuthenticatedUser().RequireRole(Roles[FhirRead])
            .RequireAssertion(context => Fhir.FhirScopes.AllowsAnyRead(context.User)));
        // Anything mapped without a policy is refused rather than open: the fallback applies to endpoints with no
        // authorization metadata at all.
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(_ => false).Build();
    }
}
