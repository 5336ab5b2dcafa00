using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Api.Auth;

/// <summary>How the API checks bearer tokens (configuration section <c>Api:Auth</c>).</summary>
/// <remarks>
/// Exactly one of two modes: a symmetric HMAC key for local and on-prem installs (<see cref="SigningKeyFile"/> or
/// <see cref="SigningKey"/>), or an OpenID Connect <see cref="Authority"/> whose published keys (JWKS) sign the tokens,
/// e.g. an Amazon Cognito user pool, for production.
/// </remarks>
internal sealed class AuthOptions
{
    public const string SectionName = "Api:Auth";

    /// <summary>File holding the base64 HMAC-SHA256 key (at least 32 bytes once decoded; mode 0600). Local mode.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The base64 HMAC-SHA256 key itself, for containers that pass secrets in the environment. Local mode.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OpenID Connect issuer URL whose discovery document and JWKS sign tokens. Production mode.</summary>
    public string? Authority { get; set; }

    /// <summary>Issuer tokens must carry in local mode. Default clinic-edge (ignored with an authority, which names its own).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Auth:Issuer is required.")]
    public string Issuer { get; set; } = "clinic-edge";

    /// <summary>Audience tokens must carry. Default clinic-edge-api (with Cognito ID tokens: the app client id).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Auth:Audience is required.")]
    public string Audience { get; set; } = "clinic-edge-api";

    /// <summary>Claim holding the roles. Default role; Cognito puts groups in cognito:groups.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Auth:RoleClaim is required.")]
    public string RoleClaim { get; set; } = "role";

    /// <summary>Claim holding the clinic ids a caller may see (one claim per clinic). Default clinic.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Auth:ClinicClaim is required.")]
    public string ClinicClaim { get; set; } = "clinic";

    /// <summary>Claim naming the gateway of a gateway identity. Default gateway_id.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Api:Auth:GatewayClaim is required.")]
    public string GatewayClaim { get; set; } = "gateway_id";

    /// <summary>Whether the authority must be reached over HTTPS. Default true; false only for a loopback test authority.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Clock skew tolerated on token lifetimes, in seconds. Default 60.</summary>
    [SettingRange(0, 600, ErrorMessage = "Api:Auth:ClockSkewSeconds must be between 0 and 600.")]
    public int ClockSkewSeconds { get; set; } = 60;
}
