using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;
using MQTTnet;
using MQTTnet.Formatter;

namespace Edge.Ingest.Broker;

/// <summary>The worker's MQTT 5 client settings: TLS with its certificate, persistent session (clean start off).</summary>
internal static class CloudBrokerClient
{
    public static MqttClientOptions Options(IngestBrokerOptions options, string clientId)
    {
        var trusted = options.CaPath is null ? null : PemTls.LoadBundle(options.CaPath);
        return new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)options.SessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(15))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(options.Host);
                if (options.CertificatePath is not null && options.KeyPath is not null)
                {
                    tls.WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey(options.CertificatePath, options.KeyPath)));
                }

                if (trusted is not null)
                {
                    tls.WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted));
                }
            })
            .Build();
    }
}
