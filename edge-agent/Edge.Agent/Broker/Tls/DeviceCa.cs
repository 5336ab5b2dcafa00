using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;

namespace Edge.Agent.Broker.Tls;

/// <summary>
/// The gateway's own device CA, created once in <c>{StateDirectory}/tls</c> and kept for the gateway's life: devices
/// are given its certificate once (<c>edgectl agent device-ca</c>) and then trust every server certificate the agent
/// issues with it, renewals included. Its key never leaves the gateway (mode 0600, owned by the agent's user).
/// </summary>
internal sealed class DeviceCa : IDisposable
{
    public const string CertificateFileName = "device-ca.pem";
    public const string KeyFileName = "device-ca.key";

    /// <summary>Long, because replacing it means giving every device the new one.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(20 * 365);

    private DeviceCa(X509Certificate2 certificate, string certificatePath)
    {
        Certificate = certificate;
        CertificatePath = certificatePath;
    }

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public string CertificatePath { get; }

    /// <summary>SHA-256 of the certificate, for a technician to compare with what a device shows.</summary>
    public string Fingerprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>Loads the CA from <paramref name="directory"/>, or creates it there; <paramref name="created"/> says which.</summary>
    public static DeviceCa LoadOrCreate(string directory, string gatewayId, DateTimeOffset now, out bool created)
    {
        var certificatePath = Path.Combine(directory, CertificateFileName);
        var keyPath = Path.Combine(directory, KeyFileName);
        if (File.Exists(certificatePath))
        {
            if (!File.Exists(keyPath))
            {
                // A new CA would silently lock out every device that trusts this one: the operator decides.
                throw new InvalidOperationException(
                    $"{certificatePath} exists but its key {keyPath} does not: restore the key from a backup, or delete {certificatePath} " +
                    "to create a new device CA (every device must then be given the new one: edgectl agent device-ca).");
            }

            created = false;
            return new DeviceCa(PemTls.LoadCertificateWithKey(certificatePath, keyPath), certificatePath);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Clinic Edge device CA {gatewayId}, O=Clinic Edge", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var certificate = request.CreateSelfSigned(now.AddHours(-1), now.Add(Validity));

        // Key first: a certificate on disk always has its key next to it, even after a crash between the two writes.
        CertificateFiles.WriteKey(keyPath, key);
        CertificateFiles.WriteCertificate(certificatePath, certificate);
        created = true;
        return new DeviceCa(PemTls.LoadCertificateWithKey(certificatePath, keyPath), certificatePath);
    }

    /// <summary>True when <paramref name="certificate"/> was signed by this CA and both are valid at <paramref name="now"/>.</summary>
    public bool Issued(X509Certificate2 certificate, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime; // the agent's clock, not the machine's (tests use a fake one)
        return chain.Build(certificate);
    }

    public void Dispose() => Certificate.Dispose();
}
