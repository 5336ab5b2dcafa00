using System.Security.Claims;

namespace Edge.Console.Components.Shared;

/// <summary>The API's roles, and which of the console's pages each may use (the API decides what each page shows).</summary>
internal static class Roles
{
    public const string Admin = "admin";
    public const string Technician = "technician";
    public const string Clinician = "clinician";
    public const string Auditor = "auditor";

    /// <summary>Fleet and gateway pages: whoever runs or reviews the fleet.</summary>
    public const string Fleet = "admin,technician,auditor";

    /// <summary>The devices list and the registry part of a device page.</summary>
    public const string Registry = "admin,technician,clinician,auditor";

    /// <summary>Readings, charts, live stream, alerts, analytics: patient data, never auditors.</summary>
    public const string Clinical = "admin,technician,clinician";

    public const string Audit = "admin,auditor";

    public const string Users = "admin";

    public static bool Any(ClaimsPrincipal user, string roles) => roles.Split(',').Any(user.IsInRole);
}
