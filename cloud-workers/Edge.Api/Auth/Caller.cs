using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace Edge.Api.Auth;

/// <summary>
/// Who is calling, as the handlers need it: a subject for the audit log, the role acted under, and the clinics whose
/// devices they may see. Admins see every clinic; everyone else only the clinics their token lists.
/// </summary>
internal sealed class Caller
{
    private readonly HashSet<string> _roles;
    private readonly HashSet<string> _clinics;

    public Caller(ClaimsPrincipal user, AuthOptions options)
    {
        Subject = user.FindFirst("sub")?.Value ?? user.Identity?.Name ?? "unknown";
        _roles = user.FindAll(options.RoleClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        _clinics = user.FindAll(options.ClinicClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        GatewayId = user.FindFirst(options.GatewayClaim)?.Value;
        Role = ApiRoles.All.FirstOrDefault(_roles.Contains) ?? "none";
        ExpiresAt = long.TryParse(user.FindFirst("exp")?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var exp)
            && exp <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : null;
    }

    /// <summary>Lets a handler take a <see cref="Caller"/> parameter (minimal API binding).</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<Caller?>(new Caller(context.User, context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value));

    /// <summary>The token's subject (<c>sub</c>), recorded as the actor in the audit log.</summary>
    public string Subject { get; }

    /// <summary>The most privileged role held; the role recorded in the audit log.</summary>
    public string Role { get; }

    /// <summary>The gateway a gateway identity speaks for, from <see cref="AuthOptions.GatewayClaim"/>.</summary>
    public string? GatewayId { get; }

    /// <summary>When the token expires (<c>exp</c>); a long-lived connection such as the live stream ends then.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Every role the token holds, in <see cref="ApiRoles.All"/> order.</summary>
    public IReadOnlyList<string> Roles => [.. ApiRoles.All.Where(_roles.Contains)];

    /// <summary>The clinics the token lists, sorted (an admin's token may list none and still sees every clinic).</summary>
    public IReadOnlyList<string> Clinics => [.. _clinics.Order(StringComparer.Ordinal)];

    public bool IsAdmin => _roles.Contains(ApiRoles.Admin);

    /// <summary>True for a caller whose only role is the gateway identity: it sees its own gateway's entries only.</summary>
    public bool IsGatewayOnly => Role == ApiRoles.Gateway;

    /// <summary>The clinics to filter lists by, or null when the caller sees every clinic.</summary>
    public IReadOnlyCollection<string>? ClinicScope => IsAdmin ? null : _clinics;

    public bool CanSeeClinic(string? clinicId) => IsAdmin || (clinicId is not null && _clinics.Contains(clinicId));

    /// <summary>Whether the caller may see a registry entry of <paramref name="clinicId"/> attached to <paramref name="gatewayId"/>.</summary>
    public bool CanSee(string clinicId, string? gatewayId) =>
        IsGatewayOnly ? GatewayId is not null && string.Equals(GatewayId, gatewayId, StringComparison.Ordinal) : CanSeeClinic(clinicId);
}
