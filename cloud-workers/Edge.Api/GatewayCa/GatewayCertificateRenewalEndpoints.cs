using System.Security.Claims;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Microsoft.Extensions.Options;

namespace Edge.Api.GatewayCa;

/// <summary>
/// <c>POST /v1/gateways/{id}/certificate/renewal</c>: the agent renews its own certificate. No token: the caller is
/// authenticated by the TLS client certificate it holds now (issued by this CA, still valid, CN = the id, one this API
/// issued to that gateway), and the gateway must be active. The CSR must name the gateway and carry a new key: a
/// renewal never re-certifies a key that has already been in use.
/// </summary>
internal static class GatewayCertificateRenewalEndpoints
{
    public static void MapGatewayCertificateRenewalEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/gateways/{id}/certificate/renewal", RenewAsync).AllowAnonymous()
            .WithTags("Registry")
            .WithName("RenewGatewayCertificate")
            .WithSummary("Signs a new key's CSR for a gateway authenticated by its current client certificate (mutual TLS).")
            .WithDescription("Takes no token: the gateway authenticates with its current TLS client certificate (HTTPS only), which must chain to the gateway CA, be valid, have CN = {id} and have been issued by this API to that gateway. The CSR's subject must be exactly CN={id} with a new key. 401 without a valid gateway certificate; 403 for another gateway's id, a retired or unregistered gateway, or a certificate not issued to it; 501 without a gateway CA.")
            .Produces<GatewayCertificate>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status501NotImplemented);
    }

    private static async Task<IResult> RenewAsync(
        string id, GatewayCertificateRequest request, HttpContext context, RegistryStore registry, AuditTrail audit, GatewayCertificateAuthority ca,
        IOptions<AuthOptions> authOptions, ILogger<GatewayCertificateAuthority> logger, CancellationToken cancellationToken)
    {
        if (!ca.Enabled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status501NotImplemented, title: "No gateway CA.",
                detail: "This deployment signs no gateway certificates (Api:GatewayCa is not set).");
        }

        var presented = await context.Connection.GetClientCertificateAsync(cancellationToken);
        var (certificateGateway, certificateProblem) = ca.CheckGatewayCertificate(presented);
        if (certificateProblem is not null)
        {
            Log.GatewayCertificateRenewalRefused(logger, id, certificateProblem);
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not authenticated.", detail: certificateProblem);
        }
        if (certificateGateway != id)
        {
            // One gateway's certificate never renews another's: the id comes from the certificate, not from the caller.
            return Refuse(logger, id, $"the client certificate is gateway {certificateGateway}'s; a gateway renews only its own certificate");
        }

        var (csr, csrProblem) = GatewayCertificateAuthority.ReadSigningRequest(request.Csr, id);
        if (csrProblem is null && csr!.SubjectName.Name != $"CN={id}")
        {
            csrProblem = $"its subject must be CN={id} (the gateway id), not '{csr.SubjectName.Name}'";
        }
        if (csrProblem is null && GatewayCertificateAuthority.KeyFingerprint(csr!.PublicKey) == GatewayCertificateAuthority.KeyFingerprint(presented!.PublicKey))
        {
            csrProblem = "it carries the key of the current certificate; a renewal needs a new key";
        }
        if (csrProblem is not null)
        {
            Log.GatewayCertificateRenewalRefused(logger, id, $"csr {csrProblem}");
            var errors = new RequestErrors();
            errors.Add("csr", csrProblem);
            return errors.ToResult();
        }

        var now = ca.Time.GetUtcNow();
        var presentedFingerprint = GatewayCertificateAuthority.Fingerprint(presented!);
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await registry.GetGatewayAsync(id, cancellationToken, connection, transaction);
        if (before is null || before.Status != RegistryStatus.Active)
        {
            return Refuse(logger, id, before is null ? $"gateway {id} is not registered" : $"gateway {id} is retired");
        }
        // Only a certificate this API issued to this gateway renews it (a lost answer leaves the previous one in use).
        if (await GatewayCertificateStore.FindAsync(connection, transaction, id, presentedFingerprint, cancellationToken) is null)
        {
            return Refuse(logger, id, $"the client certificate ({presentedFingerprint}) was not issued to gateway {id} by this deployment");
        }

        using var certificate = ca.Issue(csr!, id);
        var issued = new GatewayCertificateStore.IssuedCertificate(
            GatewayCertificateAuthority.Fingerprint(certificate), GatewayCertificateAuthority.KeyFingerprint(csr!.PublicKey), certificate.ExportCertificatePem(),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        var caller = GatewayCaller(id, before.ClinicId, authOptions.Value);
        await GatewayCertificateStore.InsertAsync(connection, transaction, id, issued, now, caller.Subject, cancellationToken);
        await GatewayCertificateStore.SetFingerprintAsync(connection, transaction, id, issued.Fingerprint, cancellationToken);
        var after = before with { CertificateFingerprint = issued.Fingerprint };
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("gateway.certificate.renewal", "gateway", id, after.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.Gateway), AuditTrail.Json(after, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.GatewayCertificateRenewed(logger, id, issued.Fingerprint, issued.NotAfter);
        return TypedResults.Created($"/v1/gateways/{id}",
            new GatewayCertificate(after, issued.Fingerprint, issued.CertificatePem, ca.BrokerCaCertificatePem, issued.NotBefore, issued.NotAfter));
    }

    private static IResult Refuse(ILogger logger, string id, string reason)
    {
        Log.GatewayCertificateRenewalRefused(logger, id, reason);
        return Problems.Forbidden(reason);
    }

    // The audit log's actor: the gateway itself, under the gateway role.
    private static Caller GatewayCaller(string id, string clinicId, AuthOptions options) => new(new ClaimsPrincipal(new ClaimsIdentity(
        [new Claim("sub", $"gateway:{id}"), new Claim(options.RoleClaim, ApiRoles.Gateway), new Claim(options.ClinicClaim, clinicId), new Claim(options.GatewayClaim, id)],
        "certificate")), options);
}
