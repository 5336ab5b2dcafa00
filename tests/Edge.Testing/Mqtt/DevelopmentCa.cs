using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Testing.Mqtt;

/// <summary>
/// A throwaway certificate authority for tests: a CA, a server certificate for 127.0.0.1/localhost, and client
/// certificates whose CN is the MQTT identity (gateway id or worker name), written as PEM files (keys mode 0600).
/// </summary>
public sealed class DevelopmentCa : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;

    /// <param name="commonName">The CA's own name (tests with two CAs tell them apart by it).</param>
    /// <param name="notBefore">When the CA's validity starts; default a day ago.</param>
    public DevelopmentCa(string directory, string commonName = "Clinic Edge test CA", DateTimeOffset? notBefore = null)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = request.CreateSelfSigned(notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        CaPath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
        // The CA key on disk too, for the API's gateway CA (Api:GatewayCa:KeyPath), which signs gateway CSRs with it.
        CaKeyPath = Path.Combine(directory, "ca.key");
        File.WriteAllText(CaKeyPath, _caKey.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(CaKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (ServerCertificatePath, ServerKeyPath) = Issue("server", "localhost", server: true);
    }

    public string Directory { get; }

    public string CaPath { get; }

    /// <summary>The CA's private key (PEM, mode 0600).</summary>
    public string CaKeyPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    /// <summary>Issues a client certificate with CN = <paramref name="commonName"/>; returns the PEM paths.</summary>
    public (string CertificatePath, string KeyPath) IssueClient(string commonName) => Issue(commonName, commonName, server: false);

    /// <summary>Signs a PEM CSR as a client certificate (CN and key from the CSR), for stand-ins of a cloud CA.</summary>
    public X509Certificate2 SignClientRequest(string csrPem, TimeSpan validity)
    {
        var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256);
        var request = new CertificateRequest(csr.SubjectName, csr.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        return request.Create(_ca, NotBefore(TimeSpan.FromMinutes(5)), DateTimeOffset.UtcNow.Add(validity), serial);
    }

    // Back-dated for clocks slightly behind, but never before the CA itself (CertificateRequest.Create refuses that).
    private DateTimeOffset NotBefore(TimeSpan backdate)
    {
        var wanted = DateTimeOffset.UtcNow - backdate;
        var ca = new DateTimeOffset(_ca.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        return wanted < ca ? ca : wanted;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }

    private (string CertificatePath, string KeyPath) Issue(string fileName, string commonName, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var certificate = request.Create(_ca, NotBefore(TimeSpan.FromDays(1)), DateTimeOffset.UtcNow.AddDays(90), serial);
        var certificatePath = Path.Combine(Directory, fileName + ".pem");
        var keyPath = Path.Combine(Directory, fileName + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (certificatePath, keyPath);
    }
}
