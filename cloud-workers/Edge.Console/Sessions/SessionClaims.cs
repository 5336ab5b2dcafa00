using System.Security.Claims;

namespace Edge.Console.Sessions;

/// <summary>What the console's cookie says about the user: the session id, who they are, their roles and clinics.</summary>
internal static class SessionClaims
{
    public const string SessionId = "sid";
    public const string Clinic = "clinic";
    public const string DisplayName = "display_name";
    public const string Subject = "sub";

    public static ClaimsPrincipal Principal(StoredSession session, string authenticationType)
    {
        var claims = new List<Claim>
        {
            new(SessionId, session.Id),
            new(Subject, session.Subject),
            new(ClaimTypes.Name, session.Username),
            new(DisplayName, session.DisplayName ?? session.Username),
        };
        claims.AddRange(session.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
        claims.AddRange(session.Clinics.Select(clinic => new Claim(Clinic, clinic)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, ClaimTypes.Name, ClaimTypes.Role));
    }
}
