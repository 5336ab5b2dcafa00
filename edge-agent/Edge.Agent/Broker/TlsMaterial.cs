using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;

namespace Edge.Agent.Broker;

/// <summary>The device listener's TLS pieces: its server certificate and the check on device certificates.</summary>
internal static class TlsMaterial
{
    public static X509Certificate2 LoadServerCertificate(string certificatePath, string? keyPath) =>
        PemTls.LoadCertificateWithKey(certificatePath, keyPath);

    public static bool IsIssuedBy(X509Certificate? presented, X509Certificate2Collection deviceCa) =>
        presented is null // optional: such a device logs in with its secret instead
        || PemTls.ChainsTo(presented, deviceCa);
}
