using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Edge.Api.Auth;

/// <summary>Registers bearer authentication in the configured mode, and the policies.</summary>
internal static class AuthSetup
{
    public static void AddApiAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsRules>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, authOptions) => Configure(jwt, authOptions.Value));
        builder.Services.AddAuthorization(ApiPolicies.Add);
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions auth)
    {
        // Claims keep the names the token uses ("role", "clinic", "sub"), not the WS-Federation URIs.
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            RoleClaimType = auth.RoleClaim,
            NameClaimType = "sub",
            ValidAudience = auth.Audience,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(auth.ClockSkewSeconds),
        };

        if (!string.IsNullOrWhiteSpace(auth.Authority))
        {
            // The issuer and its signing keys come from the authority's discovery document and JWKS.
            jwt.Authority = auth.Authority;
            jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            return;
        }

        jwt.TokenValidationParameters.ValidIssuer = auth.Issuer;
        jwt.TokenValidationParameters.ValidateIssuer = true;
        jwt.TokenValidationParameters.IssuerSigningKey = LocalSigningKey.Load(auth);
        jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
    }
}
