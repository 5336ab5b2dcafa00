using System.Security.Claims;
using Edge.Api.Auth;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Edge.Api.Accounts;

/// <summary>
/// Starts and continues local accounts' sessions: an access token signed with the API's local key (the same key and
/// claims as <c>edge-api token</c>'s) and a refresh token whose hash is stored. Off with an OIDC authority.
/// </summary>
internal sealed class AccountSessions(IOptions<AuthOptions> auth, IOptions<AccountOptions> accounts)
{
    private SymmetricSecurityKey? _key;

    /// <summary>False in OIDC mode (<c>Api:Auth:Authority</c>): accounts live in the identity provider.</summary>
    public bool Enabled => string.IsNullOrWhiteSpace(auth.Value.Authority);

    public AccountOptions Options => accounts.Value;

    /// <summary>
    /// Stores a new refresh token of <paramref name="familyId"/> (one sign-in) expiring at <paramref name="refreshExpiresAt"/>
    /// and issues an access token carrying the user's roles, clinics and username.
    /// </summary>
    internal async Task<TokenResponse> IssueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, User user, Guid familyId, DateTimeOffset issuedAt, DateTimeOffset refreshExpiresAt,
        CancellationToken cancellationToken)
    {
        // Whole seconds, as the token's exp claim has them: expires_at is exactly when the API stops accepting it.
        var now = WholeSeconds(issuedAt);
        var refresh = RefreshTokenValue.Create();
        await AccountStore.InsertRefreshTokenAsync(connection, transaction, familyId, user.Id, RefreshTokenValue.Sha256(refresh), now, refreshExpiresAt, cancellationToken);
        // Loaded once: the same key the bearer handler checks with (AuthSetup), read from the same settings.
        _key ??= LocalSigningKey.Load(auth.Value) ?? throw new InvalidOperationException("Local accounts need the local signing key (Api:Auth:SigningKeyFile).");
        var issuer = new LocalTokenIssuer(auth.Value, _key, new FixedNow(now));
        var access = issuer.Issue(user.Id.ToString(), user.Roles, user.Clinics, accounts.Value.AccessTokenLifetime, name: user.Username);
        return new TokenResponse(access, "Bearer", now + accounts.Value.AccessTokenLifetime, refresh, refreshExpiresAt,
            new TokenUser(user.Id, user.Username, user.DisplayName, user.Roles, user.Clinics));
    }

    /// <summary>A time cut to whole seconds, as JWT times are.</summary>
    internal static DateTimeOffset WholeSeconds(DateTimeOffset value) => DateTimeOffset.FromUnixTimeSeconds(value.ToUnixTimeSeconds());

    /// <summary>The audit log's actor for a request about <paramref name="user"/> made without a token (a sign-in, a refresh).</summary>
    internal Caller ActorOf(User? user)
    {
        var claims = new List<Claim> { new("sub", user?.Id.ToString() ?? "anonymous") };
        claims.AddRange((user?.Roles ?? []).Select(role => new Claim(auth.Value.RoleClaim, role)));
        return new Caller(new ClaimsPrincipal(new ClaimsIdentity(claims)), auth.Value);
    }

    private sealed class FixedNow(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
