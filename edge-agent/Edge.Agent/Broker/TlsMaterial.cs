using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;

namespace Edge.Agent.Broker;

/// <summary>The device listener's check on device certificates (the server certificate is <see cref="Tls.ServerCertificate"/>).</summary>
internal static class TlsMaterial
{
    public static bool IsIssuedBy(X509Certificate? presented, X509Certificate2Collection deviceCa) =>
        presented is null // optional: such a device logs in with its secret instead
        || PemTls.ChainsTo(presented, deviceCa);
}
