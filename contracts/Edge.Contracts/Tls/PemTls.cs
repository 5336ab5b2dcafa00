using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Contracts.Tls;

/// <summary>
/// PEM certificates for the MQTT links (gateway → cloud broker, worker → cloud broker): load a client certificate
/// with its key, and trust a server only if it chains to the deployment's CA and its name matches.
/// </summary>
public static class PemTls
{
    /// <summary>A certificate with its private key, usable by SslStream on Linux (which needs a persisted key, not PEM's ephemeral one).</summary>
    /// <remarks>Without <paramref name="keyPath"/> the key is read from the certificate file.</remarks>
    public static X509Certificate2 LoadCertificateWithKey(string certificatePath, string? keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Every certificate in a PEM bundle (a CA file may hold several).</summary>
    public static X509Certificate2Collection LoadBundle(string path)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        return collection;
    }

    /// <summary>
    /// Server check for a private CA: the name must match (SslStream reports a mismatch before this runs) and the
    /// chain must end at one of <paramref name="trustedRoots"/>, not at whatever the machine's store trusts.
    /// </summary>
    public static bool IsTrustedServer(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trustedRoots)
    {
        return certificate is not null
            && (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) == 0
            && ChainsTo(certificate, trustedRoots);
    }

    /// <summary>True when the certificate chains to one of <paramref name="trustedRoots"/> (and only those).</summary>
    public static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection trustedRoots)
    {
        using var presented = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(presented);
    }
}
