using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Edge.Api.Auth;

/// <summary>
/// Issues tokens signed with the local key, for local installs and tests (<c>edge-api token …</c>). Production tokens
/// come from the identity provider named by <see cref="AuthOptions.Authority"/>.
/// </summary>
internal sealed class LocalTokenIssuer(AuthOptions options, SymmetricSecurityKey key, TimeProvider time)
{
    /// <summary>
    /// A token for <paramref name="subject"/> holding <paramref name="roles"/>, scoped to <paramref name="clinics"/>; a local
    /// account's token also carries its username as <c>name</c>, an integration client's its OAuth scopes (space-separated
    /// in one <c>scope</c> claim, e.g. <c>system/*.read</c> for the FHIR API).
    /// </summary>
    public string Issue(
        string subject, IEnumerable<string> roles, IEnumerable<string> clinics, TimeSpan lifetime, string? gatewayId = null, string? name = null,
        IEnumerable<string>? scopes = null)
    {
        var claims = new List<Claim> { new(JwtRegisteredClaimNames.Sub, subject) };
        if (name is not null)
        {
            claims.Add(new Claim(JwtRegisteredClaimNames.Name, name));
        }
        claims.AddRange(roles.Select(role => new Claim(options.RoleClaim, role)));
        claims.AddRange(clinics.Select(clinic => new Claim(options.ClinicClaim, clinic)));
        if (gatewayId is not null)
        {
            claims.Add(new Claim(options.GatewayClaim, gatewayId));
        }
        if (scopes?.ToList() is { Count: > 0 } granted)
        {
            claims.Add(new Claim(Fhir.FhirScopes.Claim, string.Join(' ', granted)));
        }

        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
