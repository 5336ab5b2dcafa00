namespace Edge.Api.Auth;

/// <summary>The roles a token can carry (claim <see cref="AuthOptions.RoleClaim"/>), from most to least privileged.</summary>
internal static class ApiRoles
{
    /// <summary>Runs the deployment: every clinic, clinics, webhooks, the audit log.</summary>
    public const string Admin = "admin";

    /// <summary>Installs gateways and devices in their clinics and pushes configuration.</summary>
    public const string Technician = "technician";

    /// <summary>Reads telemetry, summaries and alerts of their clinics' devices and changes device settings.</summary>
    public const string Clinician = "clinician";

    /// <summary>Reads the audit log and the registry, never telemetry (no patient data for a compliance review).</summary>
    public const string Auditor = "auditor";

    /// <summary>A gateway or service identity: reads its own gateway's registry entry and devices.</summary>
    public const string Gateway = "gateway";

    /// <summary>Every role, most privileged first: a caller with several acts (and is audited) as the first it holds.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, Technician, Clinician, Auditor, Gateway];
}
