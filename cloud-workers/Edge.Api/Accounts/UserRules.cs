using Edge.Api.Auth;
using Edge.Api.Http;

namespace Edge.Api.Accounts;

/// <summary>What a user's fields may hold; each check adds a refusal naming the field.</summary>
internal static class UserRules
{
    /// <summary>The roles an account may hold: the API's people roles; <c>gateway</c> is for machines, never an account.</summary>
    public static readonly IReadOnlyList<string> Roles = [ApiRoles.Admin, ApiRoles.Technician, ApiRoles.Clinician, ApiRoles.Auditor];

    /// <summary>The username folded to lower case, or null (with a refusal) when it is not one.</summary>
    public static string? Username(string? value, RequestErrors errors)
    {
        var username = value?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(username) || !SignInEndpoints.UsernameFormat().IsMatch(username))
        {
            errors.Add("username", "is required: 1-64 of a-z, 0-9, '.', '_', '-' and '@' (case-insensitive)");
            return null;
        }
        return username;
    }

    public static string? DisplayName(string? value, RequestErrors errors)
    {
        var name = value?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200 || name.Any(char.IsControl))
        {
            errors.Add("display_name", "is required: 1-200 characters, no control characters");
            return null;
        }
        return name;
    }

    /// <summary>The roles, deduplicated, most privileged first; at least one of <see cref="Roles"/>.</summary>
    public static string[] RoleList(string[]? values, RequestErrors errors)
    {
        if (values is null || values.Length == 0)
        {
            errors.Add("roles", $"is required: one or more of {string.Join(", ", Roles)}");
            return [];
        }
        foreach (var role in values.Where(r => !Roles.Contains(r)))
        {
            errors.Add("roles", $"'{role}' is not a role of an account (one of {string.Join(", ", Roles)})");
        }
        return [.. Roles.Where(values.Contains)];
    }

    /// <summary>The clinics, deduplicated and sorted; required for everyone but admins (who see every clinic).</summary>
    public static string[] ClinicList(string[]? values, IReadOnlyCollection<string> roles, RequestErrors errors)
    {
        var clinics = (values ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (clinics.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("clinics", "must not hold an empty clinic id");
        }
        if (clinics.Length == 0 && roles.Count > 0 && !roles.Contains(ApiRoles.Admin))
        {
            errors.Add("clinics", "is required for a user who is not an admin: the clinics whose devices they may see");
        }
        if (clinics.Length > 1000)
        {
            errors.Add("clinics", "holds at most 1000 clinics");
        }
        return clinics;
    }
}
