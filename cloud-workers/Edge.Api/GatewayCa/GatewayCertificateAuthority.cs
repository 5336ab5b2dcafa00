using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Security;
using Microsoft.Extensions.Options;

namespace Edge.Api.GatewayCa;

/// <summary>
/// Signs gateway CSRs with the deployment's CA (<see cref="GatewayCaOptions"/>). The CA is loaded once at start, so a
/// wrong path, an unprotected key or a key that does not match the certificate stops the API at boot.
/// </summary>
internal sealed class GatewayCertificateAuthority : IDisposable
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2? _ca;

    public GatewayCertificateAuthority(IOptions<GatewayCaOptions> options, TimeProvider time)
    {
        var settings = options.Value;
        Validity = settings.ValidityMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : TimeSpan.FromDays(settings.ValidityDays);
        Time = time;
        if (string.IsNullOrWhiteSpace(settings.CertificatePath) && string.IsNullOrWhiteSpace(settings.KeyPath))
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(settings.CertificatePath) || string.IsNullOrWhiteSpace(settings.KeyPath))
        {
            throw new InvalidOperationException("Api:GatewayCa needs both CertificatePath and KeyPath (or neither, to leave certificate signing off).");
        }
        if (!File.Exists(settings.CertificatePath))
        {
            throw new InvalidOperationException($"Api:GatewayCa:CertificatePath: {settings.CertificatePath} does not exist.");
        }

        var keyPem = OwnerOnlyFile.ReadSecret(settings.KeyPath, "Api:GatewayCa:KeyPath", minimumLength: 1);
        try
        {
            _ca = X509Certificate2.CreateFromPem(File.ReadAllText(settings.CertificatePath), keyPem);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException(
                $"Api:GatewayCa: cannot load the CA from {settings.CertificatePath} and {settings.KeyPath} ({ex.Message}); both must be PEM and the key must be the certificate's.", ex);
        }
        if (_ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            throw new InvalidOperationException($"Api:GatewayCa:CertificatePath: {settings.CertificatePath} is not a CA certificate (basic constraints CA:true).");
        }
        BrokerCaCertificatePem = ReadBrokerCa(settings, _ca);
    }

    /// <summary>False when no CA is configured.</summary>
    public bool Enabled => _ca is not null;

    public TimeSpan Validity { get; }

    public TimeProvider Time { get; }

    /// <summary>The CA's subject, for the start-up log line.</summary>
    public string Subject => _ca?.Subject ?? "(none)";

    /// <summary>
    /// The CA the broker's own certificate chains to (<see cref="GatewayCaOptions.BrokerCaPath"/>), handed to each
    /// gateway with its certificate so it can check the broker. Not the gateway CA: that one signs gateways only.
    /// </summary>
    public string BrokerCaCertificatePem { get; } = string.Empty;

    /// <summary>
    /// Reads a PEM CSR, checks its signature and key (EC P-256/P-384 or RSA of at least 2048 bits) and that its subject,
    /// when it names one, is the gateway. Returns the request or the reason it is refused.
    /// </summary>
    public static (CertificateRequest? Request, string? Problem) ReadSigningRequest(string? pem, string gatewayId)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            return (null, "is required: a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)");
        }
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException ex)
        {
            return (null, $"is not a valid PEM certificate signing request with a valid signature ({ex.Message.TrimEnd('.')})");
        }

        var keyProblem = request.PublicKey.Oid.Value switch
        {
            "1.2.840.10045.2.1" => request.PublicKey.GetECDsaPublicKey() is { KeySize: 256 or 384 } ? null : "an EC key must be on P-256 or P-384",
            "1.2.840.113549.1.1.1" => request.PublicKey.GetRSAPublicKey() is { KeySize: >= 2048 } ? null : "an RSA key must have at least 2048 bits",
            _ => "the key must be EC (P-256 or P-384) or RSA",
        };
        if (keyProblem is not null)
        {
            return (null, keyProblem);
        }

        var commonName = request.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(name => !name.HasMultipleElements && name.GetSingleElementType().Value == "2.5.4.3")
            .Select(name => name.GetSingleElementValue())
            .FirstOrDefault();
        if (!string.IsNullOrEmpty(commonName) && commonName != gatewayId)
        {
            return (null, $"its subject CN is '{commonName}'; it must be the gateway id '{gatewayId}' (or empty)");
        }
        return (request, null);
    }

    /// <summary>Issues a client certificate for <paramref name="request"/>'s key with CN = the gateway id.</summary>
    public X509Certificate2 Issue(CertificateRequest request, string gatewayId)
    {
        var ca = _ca ?? throw new InvalidOperationException("No gateway CA is configured.");
        var certificateRequest = new CertificateRequest(new X500DistinguishedName($"CN={gatewayId}"), request.PublicKey, HashAlgorithmName.SHA256);
        certificateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        certificateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        certificateRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthentication)], false));
        certificateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Older CAs carry no subject key identifier; their certificates then get no authority key identifier either.
        if (ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any())
        {
            certificateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        }

        // A few minutes back, so a gateway whose clock is slightly behind accepts its certificate at once; never before
        // the CA's own start, which CertificateRequest.Create refuses (a CA made minutes ago would fail every request).
        var now = Time.GetUtcNow();
        var notBefore = now.AddMinutes(-5);
        var caStart = new DateTimeOffset(ca.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        if (notBefore < caStart)
        {
            notBefore = caStart;
        }
        var notAfter = now + Validity;
        if (notAfter > ca.NotAfter)
        {
            notAfter = ca.NotAfter;
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return certificateRequest.Create(ca, notBefore, notAfter, serial);
    }

    /// <summary>
    /// Checks a client certificate presented over TLS for a renewal: it must chain to this CA, be valid now and be for
    /// client authentication. Returns its CN (the gateway id) or the reason it is refused.
    /// </summary>
    public (string? GatewayId, string? Problem) CheckGatewayCertificate(X509Certificate2? presented)
    {
        var ca = _ca ?? throw new InvalidOperationException("No gateway CA is configured.");
        if (presented is null)
        {
            return (null, "no client certificate: a renewal is authenticated by the gateway's current certificate (TLS client certificate)");
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthentication));
        if (!chain.Build(presented))
        {
            var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status));
            return (null, $"the client certificate is not a valid gateway certificate of this deployment ({status})");
        }
        var commonName = presented.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return string.IsNullOrEmpty(commonName) ? (null, "the client certificate names no gateway (empty CN)") : (commonName, null);
    }

    private static string ReadBrokerCa(GatewayCaOptions settings, X509Certificate2 gatewayCa)
    {
        if (string.IsNullOrWhiteSpace(settings.BrokerCaPath))
        {
            throw new InvalidOperationException(
                "Api:GatewayCa:BrokerCaPath is required with a gateway CA: the CA certificate (PEM) the cloud broker's own certificate chains to, which gateways use to check the broker.");
        }
        if (!File.Exists(settings.BrokerCaPath))
        {
            throw new InvalidOperationException($"Api:GatewayCa:BrokerCaPath: {settings.BrokerCaPath} does not exist.");
        }
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(settings.BrokerCaPath);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"Api:GatewayCa:BrokerCaPath: {settings.BrokerCaPath} is not a PEM certificate ({ex.Message}).", ex);
        }
        if (bundle.Count == 0)
        {
            throw new InvalidOperationException($"Api:GatewayCa:BrokerCaPath: {settings.BrokerCaPath} holds no certificate.");
        }
        // One CA for gateways and infrastructure would let the broker's worker listener accept gateway certificates.
        if (bundle.Any(certificate => certificate.RawData.AsSpan().SequenceEqual(gatewayCa.RawData)))
        {
            throw new InvalidOperationException(
                $"Api:GatewayCa:BrokerCaPath: {settings.BrokerCaPath} is the gateway CA itself. The gateway CA must sign gateways only; the broker and the " +
                "workers need their own CA (docs/security.md, PKI).");
        }
        var pem = string.Join('\n', bundle.Select(certificate => certificate.ExportCertificatePem()));
        foreach (var certificate in bundle)
        {
            certificate.Dispose();
        }
        return pem;
    }

    /// <summary>SHA-256 of the certificate (DER), lower-case hex: the registry's fingerprint.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, to recognise the same key in a later CSR.</summary>
    public static string KeyFingerprint(PublicKey key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    public void Dispose() => _ca?.Dispose();
}
