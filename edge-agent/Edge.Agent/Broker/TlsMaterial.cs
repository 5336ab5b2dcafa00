using System.Security.Cryptography.X509Certificates;

namespace Edge.Agent.Broker;

/// <summary>Loads PEM certificates for the TLS listener and checks device certificates against the device CA.</summary>
internal static class TlsMaterial
{
    public static X509Certificate2 LoadServerCertificate(string certificatePath, string? keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // SslStream on Linux needs the key in a persisted (PKCS#12) form, not the ephemeral PEM one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public static bool IsIssuedBy(X509Certificate? presented, X509Certificate2 ca)
    {
        if (presented is null)
        {
            return true; // the certificate is optional: such a device logs in with its secret instead
        }

        using var certificate = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
