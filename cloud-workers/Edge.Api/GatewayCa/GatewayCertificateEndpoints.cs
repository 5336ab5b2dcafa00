using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Contracts.Uplink;

namespace Edge.Api.GatewayCa;

/// <summary>
/// <c>POST /v1/gateways/{id}/certificate</c>: signs a gateway's CSR with the deployment's CA and registers the gateway
/// (with the certificate's fingerprint) in one transaction, so a gateway is never registered without its certificate
/// or the other way round. Idempotent: the same key again gets the same certificate back (200) until a third of its
/// validity is left, then a renewed one (201). Another key for a gateway that has a certificate is a 409.
/// </summary>
internal static class GatewayCertificateEndpoints
{
    public static void MapGatewayCertificateEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/gateways/{id}/certificate", IssueAsync).RequireAuthorization(ApiPolicies.GatewaysCertify)
            .WithTags("Registry")
            .WithName("IssueGatewayCertificate")
            .WithSummary("Signs the gateway's CSR with the deployment CA and registers the gateway (idempotent).")
            .WithDescription("Signs the PEM CSR (EC P-256/P-384 or RSA >= 2048; a subject CN, if any, must be the gateway id) as a client certificate with CN = the gateway id, and registers the gateway in the same transaction when it is new (clinic_id and name are then required). 201 with a new certificate; 200 with the same one when the CSR's key already has one with more than a third of its validity left; 409 for another key of a gateway that has a certificate, or a retired gateway; 501 when the deployment has no gateway CA (Api:GatewayCa).")
            .Produces<GatewayCertificate>(StatusCodes.Status201Created).Produces<GatewayCertificate>()
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status501NotImplemented);
    }

    private static async Task<IResult> IssueAsync(
        string id, GatewayCertificateRequest request, Caller caller, RegistryStore registry, AuditTrail audit, GatewayCertificateAuthority ca,
        ILogger<GatewayCertificateAuthority> logger, CancellationToken cancellationToken)
    {
        if (!ca.Enabled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status501NotImplemented, title: "No gateway CA.",
                detail: "This deployment signs no gateway certificates (Api:GatewayCa is not set); use AWS IoT fleet provisioning.");
        }

        var errors = new RequestErrors();
        if (!UplinkTopics.IsValidGatewayId(id))
        {
            errors.Add("id", "must be 1-64 letters, digits, '-' or '_' (it is part of the uplink topics)");
        }
        else if (ReservedGatewayIds.Reason(id) is { } reserved)
        {
            errors.Add("id", reserved);
        }
        var (csr, csrProblem) = GatewayCertificateAuthority.ReadSigningRequest(request.Csr, id);
        if (csrProblem is not null)
        {
            errors.Add("csr", csrProblem);
        }
        if (request.Name is not null && (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 200))
        {
            errors.Add("name", "must be 1-200 characters");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }
        if (request.ClinicId is not null && !caller.CanSeeClinic(request.ClinicId))
        {
            return Problems.Forbidden($"You may not register gateways in clinic {request.ClinicId}.");
        }

        var now = ca.Time.GetUtcNow();
        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await registry.GetGatewayAsync(id, cancellationToken, connection, transaction);
        var keyFingerprint = GatewayCertificateAuthority.KeyFingerprint(csr!.PublicKey);
        Gateway gateway;
        if (before is null)
        {
            if (request.ClinicId is null || request.Name is null)
            {
                return Problems.BadParameter(request.ClinicId is null ? "clinic_id" : "name",
                    $"is required: gateway {id} is not registered yet, so the certificate request registers it");
            }
            if (await registry.GetClinicAsync(request.ClinicId, cancellationToken, connection, transaction) is null)
            {
                return Problems.BadParameter("clinic_id", $"no clinic {request.ClinicId}");
            }
            gateway = new Gateway(id, request.ClinicId, request.Name.Trim(), null, RegistryStatus.Active, now, null, null);
            await RegistryStore.InsertGatewayAsync(connection, transaction, gateway, cancellationToken);
        }
        else
        {
            if (!caller.CanSeeClinic(before.ClinicId))
            {
                return Problems.NotFound($"No gateway {id}.");
            }
            var difference = request.ClinicId is not null && before.ClinicId != request.ClinicId ? $"it belongs to clinic {before.ClinicId}"
                : request.Name is not null && before.Name != request.Name.Trim() ? $"it is named '{before.Name}'"
                : before.Status != RegistryStatus.Active ? "it is retired"
                : null;
            if (difference is not null)
            {
                return Problems.Conflict($"Gateway {id} is already registered and {difference}.");
            }
            gateway = before;

            if (before.CertificateFingerprint is { } registered)
            {
                var current = await GatewayCertificateStore.FindAsync(connection, transaction, id, registered, cancellationToken);
                // After an automatic renewal the registry names the renewed key; the key edgectl made on this gateway was
                // certified to it before, so re-running the registration there is the same gateway, not another machine.
                if ((current is null || current.PublicKeySha256 != keyFingerprint)
                    && !await GatewayCertificateStore.KeyWasCertifiedAsync(connection, transaction, id, keyFingerprint, cancellationToken))
                {
                    // A gateway's key never leaves it: a second key for the same id is another machine, or a lost key.
                    return Problems.Conflict(
                        $"Gateway {id} already has a certificate (fingerprint {registered}) for another key. Run the registration on the " +
                        "gateway that holds its key, or retire this gateway and register the new one under a new id.");
                }
                if (current is not null && current.PublicKeySha256 == keyFingerprint && current.NotAfter - now > ca.Validity / 3)
                {
                    return TypedResults.Ok(new GatewayCertificate(gateway, current.Fingerprint, current.CertificatePem, ca.BrokerCaCertificatePem, current.NotBefore, current.NotAfter));
                }
            }
        }

        using var certificate = ca.Issue(csr, id);
        var issued = new GatewayCertificateStore.IssuedCertificate(
            GatewayCertificateAuthority.Fingerprint(certificate), keyFingerprint, certificate.ExportCertificatePem(),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        await GatewayCertificateStore.InsertAsync(connection, transaction, id, issued, now, caller.Subject, cancellationToken);
        await GatewayCertificateStore.SetFingerprintAsync(connection, transaction, id, issued.Fingerprint, cancellationToken);
        var after = gateway with { CertificateFingerprint = issued.Fingerprint };
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("gateway.certificate", "gateway", id, after.ClinicId,
            before is null ? null : AuditTrail.Json(before, ApiJsonContext.Default.Gateway), AuditTrail.Json(after, ApiJsonContext.Default.Gateway)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.GatewayCertificateIssued(logger, id, issued.Fingerprint, issued.NotAfter, caller.Subject);
        return TypedResults.Created($"/v1/gateways/{id}",
            new GatewayCertificate(after, issued.Fingerprint, issued.CertificatePem, ca.BrokerCaCertificatePem, issued.NotBefore, issued.NotAfter));
    }
}
