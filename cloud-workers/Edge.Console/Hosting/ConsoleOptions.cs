using Microsoft.Extensions.Options;
using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Console.Hosting;

/// <summary>Where the console finds the API and keeps its state (configuration section <c>Console</c>).</summary>
internal sealed class ConsoleOptions
{
    public const string SectionName = "Console";

    /// <summary>The API's base URL, e.g. http://127.0.0.1:8080. Required: the console reads everything through it.</summary>
    [Required(ErrorMessage = "Console:ApiUrl is required (the API's base URL, e.g. http://127.0.0.1:8080).")]
    public Uri? ApiUrl { get; set; }

    /// <summary>PEM file of the CA that signed the API's certificate, when the API is https with a private CA. Default: the system's trust store.</summary>
    public string? ApiCaPath { get; set; }

    /// <summary>Directory (0700) for the Data Protection keys and the signed-in sessions, so cookies survive a restart. Default /var/lib/edge-console.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Console:StateDirectory is required.")]
    public string StateDirectory { get; set; } = "/var/lib/edge-console";

    /// <summary>How long before the access token's expiry the console refreshes it, in seconds. Default 60.</summary>
    [SettingRange(5, 3600, ErrorMessage = "Console:RefreshBeforeExpirySeconds must be between 5 and 3600.")]
    public int RefreshBeforeExpirySeconds { get; set; } = 60;

    /// <summary>How often the alerts inbox asks the API for new alerts while its live stream is down, in seconds. Default 10.</summary>
    [SettingRange(2, 300, ErrorMessage = "Console:AlertsPollSeconds must be between 2 and 300.")]
    public int AlertsPollSeconds { get; set; } = 10;

    /// <summary>Single sign-on; off unless <see cref="OidcOptions.Authority"/> is set.</summary>
    [ValidateObjectMembers]
    public OidcOptions Oidc { get; set; } = new();
}

/// <summary>OpenID Connect sign-in (authorization code + PKCE), section <c>Console:Oidc</c>.</summary>
internal sealed class OidcOptions
{
    /// <summary>The identity provider's issuer URL (https). Unset: local accounts only.</summary>
    public Uri? Authority { get; set; }

    /// <summary>The console's client id at the identity provider. Required with an authority.</summary>
    public string? ClientId { get; set; }

    /// <summary>File holding the client secret (0600), for providers that require one with PKCE. Optional.</summary>
    public string? ClientSecretFile { get; set; }

    /// <summary>Scopes asked for, space-separated. Default "openid profile offline_access".</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Console:Oidc:Scopes is required.")]
    public string Scopes { get; set; } = "openid profile offline_access";

    /// <summary>Claim holding the roles in the provider's tokens. Default role (Cognito: cognito:groups).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Console:Oidc:RoleClaim is required.")]
    public string RoleClaim { get; set; } = "role";

    /// <summary>Claim holding the clinic ids. Default clinic.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Console:Oidc:ClinicClaim is required.")]
    public string ClinicClaim { get; set; } = "clinic";

    /// <summary>Whether the authority must be https. Default true; false only for a loopback test provider.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}
