using System.Security.Claims;

namespace Edge.Api.Fhir;

/// <summary>
/// SMART-style scopes on the FHIR endpoints: a token reads a resource type only with <c>system/{Type}.read</c>,
/// <c>system/*.read</c> (or the <c>user/</c> forms) in its <c>scope</c> claim. The scope narrows what the role allows and
/// never widens it: roles and clinics are checked as on the REST API.
/// </summary>
/// <remarks>
/// The claim is OAuth's: one space-separated string (RFC 8693 §4.2), or one claim per scope as some issuers write it.
/// A token without any FHIR scope reads nothing under <c>/fhir/</c>, so a console user's token handed to an integration
/// engine does not open the FHIR API.
/// </remarks>
internal static class FhirScopes
{
    /// <summary>The claim holding the scopes.</summary>
    public const string Claim = "scope";

    /// <summary>The scopes of <paramref name="user"/>, split.</summary>
    public static IEnumerable<string> Of(ClaimsPrincipal user) =>
        user.FindAll(Claim).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Whether the token holds any FHIR read scope (the policy's check; the type is checked per endpoint).</summary>
    public static bool AllowsAnyRead(ClaimsPrincipal user) => Of(user).Any(s => Parse(s) is not null);

    /// <summary>Whether the token may read <paramref name="resourceType"/>.</summary>
    public static bool AllowsRead(ClaimsPrincipal user, string resourceType) =>
        Of(user).Any(s => Parse(s) is { } type && (type == "*" || string.Equals(type, resourceType, StringComparison.Ordinal)));

    /// <summary>The resource type a read scope names (<c>*</c> for all), or null for anything else.</summary>
    /// <remarks>SMART v1 <c>.read</c> and v2 <c>.rs</c> (read and search) both grant reading.</remarks>
    public static string? Parse(string scope)
    {
        var slash = scope.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return null;
        }
        var context = scope[..slash];
        if (context is not "system" and not "user")
        {
            return null;
        }
        var rest = scope[(slash + 1)..];
        var dot = rest.LastIndexOf('.');
        if (dot <= 0)
        {
            return null;
        }
        var permission = rest[(dot + 1)..];
        return permission is "read" or "rs" or "*" ? rest[..dot] : null;
    }
}
