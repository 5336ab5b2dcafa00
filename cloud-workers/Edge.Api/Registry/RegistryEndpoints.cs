using Edge.Api.Http;
using Edge.Contracts.Devices;

namespace Edge.Api.Registry;

/// <summary>
/// The serial registry: clinics, gateways and devices. Registration is idempotent (the same request twice is a no-op,
/// so <c>edgectl</c> can be re-run safely); a registration that contradicts the existing entry is a 409 that says what
/// differs. Entries outside the caller's clinics answer 404, so their existence does not leak. One file per resource
/// (<c>RegistryEndpoints.Clinics.cs</c>, <c>.Gateways.cs</c>, <c>.Devices.cs</c>); the checks they share are here.
/// </summary>
public static partial class RegistryEndpoints
{
    public const string Active = "active";
    public const string Retired = "retired";

    public static void MapRegistryEndpoints(this IEndpointRouteBuilder routes)
    {
        var app = routes.MapGroup("").WithTags("Registry");
        MapClinics(app);
        MapGateways(app);
        MapDevices(app);
    }

    // Checks

    private static async Task<IResult?> CheckPlacementAsync(
        RegistryStore registry, string clinicId, string? gatewayId, Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        if (await registry.GetClinicAsync(clinicId, cancellationToken, connection, transaction) is null)
        {
            return Problems.BadParameter("clinic_id", $"no clinic {clinicId}");
        }
        if (gatewayId is null)
        {
            return null;
        }
        var gateway = await registry.GetGatewayAsync(gatewayId, cancellationToken, connection, transaction);
        // An unknown id and another clinic's gateway get the same answer: whether the id exists elsewhere is not told.
        return gateway is null || gateway.ClinicId != clinicId ? Problems.BadParameter("gateway_id", $"is not a gateway of clinic {clinicId}")
            : gateway.Status != Active ? Problems.BadParameter("gateway_id", "the gateway is retired")
            : null;
    }

    private static bool IsCpapFamily(DeviceKind kind) => kind is DeviceKind.Cpap or DeviceKind.Bipap;

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
        if (status is not null and not Active and not Retired)
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
