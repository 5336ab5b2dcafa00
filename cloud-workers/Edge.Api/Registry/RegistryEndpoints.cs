using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Devices;

namespace Edge.Api.Registry;

/// <summary>
/// The serial registry: clinics, gateways and devices. Registration is idempotent (the same request twice is a no-op,
/// so <c>edgectl</c> can be re-run safely); a registration that contradicts the existing entry is a 409 that says what
/// differs. Entries outside the caller's clinics answer 404, so their existence does not leak. One file per resource
/// (<c>RegistryEndpoints.Clinics.cs</c>, <c>.Gateways.cs</c>, <c>.Devices.cs</c>); the checks they share are here. A
/// handler binds, validates, authorizes and calls <see cref="RegistryStore"/>, which makes the change and writes its
/// audit record in one transaction (<c>RegistryStore.Changes.cs</c>); <see cref="Answer"/> maps the outcome.
/// </summary>
internal static partial class RegistryEndpoints
{
    public static void MapRegistryEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Registry");
        MapClinics(app);
        MapGateways(app);
        MapDevices(app);
    }

    // Checks

    /// <summary>
    /// The response for a registry change: 201 with a new entry at <paramref name="location"/>, 200 with an unchanged or
    /// changed one, and the refusals as problems (<paramref name="notFound"/> for a 404).
    /// </summary>
    private static IResult Answer<T>(RegistryChange<T> change, string location, string notFound) where T : class => change.Outcome switch
    {
        RegistryOutcome.Created => TypedResults.Created(location, change.Entry),
        RegistryOutcome.Unchanged or RegistryOutcome.Changed => TypedResults.Ok(change.Entry),
        RegistryOutcome.Invalid => Problems.BadParameter(change.Field!, change.Reason!),
        RegistryOutcome.NotFound => Problems.NotFound(notFound),
        RegistryOutcome.Forbidden => Problems.Forbidden(change.Reason!),
        _ => Problems.Conflict(change.Reason!),
    };

    private static bool IsCpapFamily(DeviceKind kind) => kind is DeviceKind.Cpap or DeviceKind.Bipap;

    /// <summary>
    /// What a listing shows <paramref name="caller"/>: a gateway's token its own gateway's entries only, whatever their
    /// clinic (a token without a gateway id matches none); anyone else the clinics in their scope (null: every clinic).
    /// </summary>
    private static (IReadOnlyCollection<string>? Clinics, string? OnlyGateway) ListingScope(Caller caller) =>
        caller.IsGatewayOnly ? (null, caller.GatewayId ?? "") : (caller.ClinicScope, null);

    private static void CheckName(string? name, string parameter, RequestErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200)
        {
            errors.Add(parameter, "is required: 1-200 characters");
        }
    }

    private static void CheckOptionalText(string? value, string parameter, int maxLength, RequestErrors errors)
    {
        if (value is not null && (value.Length == 0 || value.Length > maxLength || value.Any(char.IsControl)))
        {
            errors.Add(parameter, $"must be 1-{maxLength} characters without control characters");
        }
    }

    private static void CheckStatus(string? status, RequestErrors errors)
    {
        if (status is not null and not RegistryStatus.Active and not RegistryStatus.Retired)
        {
            errors.Add("status", "must be active or retired");
        }
    }

    private static string? NormalizeFingerprint(string? fingerprint, RequestErrors errors)
    {
        if (fingerprint is null)
        {
            return null;
        }
        // openssl prints AB:CD:…; the registry keeps plain lower-case hex.
        var hex = fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            errors.Add("certificate_fingerprint", "must be the certificate's SHA-256 fingerprint: 64 hex digits, colons allowed");
            return null;
        }
        return hex;
    }
}
