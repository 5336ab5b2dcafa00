using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;
using MQTTnet;

namespace Edge.Testing.Mqtt;

/// <summary>A real MQTT client over TLS that trusts only the given device CA, as a device configured with it does.</summary>
public static class TlsDevice
{
    public static MqttClientOptions Options(int port, string serial, string? secret, X509Certificate2Collection trustedCa, string host = "127.0.0.1")
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(serial)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost(host)
                .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trustedCa)));
        if (secret is not null)
        {
            builder.WithCredentials(serial, secret);
        }

        return builder.Build();
    }

    /// <summary>Connects and returns the client; throws when the handshake or the login fails.</summary>
    public static async Task<IMqttClient> ConnectAsync(int port, string serial, string secret, X509Certificate2Collection trustedCa, string host = "127.0.0.1")
    {
        var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await client.ConnectAsync(Options(port, serial, secret, trustedCa, host));
            return result.ResultCode == MqttClientConnectResultCode.Success
                ? client
                : throw new InvalidOperationException($"{serial} could not connect: {result.ResultCode} {result.ReasonString}");
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
