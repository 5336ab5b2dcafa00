using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Admin;
using Microsoft.AspNetCore.Http;

namespace Edge.Agent.Broker.Tls;

/// <summary>What the admin socket tells about the device listeners: their endpoints, the plain-MQTT warning, the certificate.</summary>
internal static class DeviceListenerStatus
{
    /// <summary>Why a plain listener is worth a warning, for the status (the start-up log line says the same).</summary>
    public const string PlainWarning =
        "plain MQTT is on (Agent:Broker:Port): device secrets and readings cross the network unencrypted; set it to 0 once every device uses TLS";

    public static BrokerStatus Describe(BrokerOptions options, ServerCertificate certificate)
    {
        var plain = options.Port > 0;
        List<string> endpoints = [$"mqtts://{options.BindAddress}:{options.Tls.Port}"];
        if (plain)
        {
            endpoints.Add($"mqtt://{options.BindAddress}:{options.Port}");
        }

        var current = certificate.Current;
        var san = current.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        var names = san is null ? [] : san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToList();
        return new BrokerStatus(
            endpoints,
            plain,
            plain ? PlainWarning : null,
            certificate.Managed,
            names,
            new DateTimeOffset(current.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            certificate.DeviceCaFingerprint);
    }

    /// <summary><c>GET /v1/device-ca</c>: the CA devices must trust, as PEM (public: no secret in it).</summary>
    public static IResult DeviceCa(ServerCertificate certificate) => certificate.DeviceCaPath is { } path
        ? Results.Text(File.ReadAllText(path), "application/x-pem-file")
        : Results.Problem(
            statusCode: 404,
            title: "No device CA",
            detail: "the device listener's certificate is configured (Agent:Broker:Tls:CertificatePath): give devices the CA that issued it.");
}
