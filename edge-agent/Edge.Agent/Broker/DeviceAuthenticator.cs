using System.Net;
using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Credentials;
using Edge.Contracts.Devices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Edge.Agent.Broker;

/// <summary>
/// Decides who may connect: a device proves its serial with its secret (username = serial) or with a client
/// certificate whose CN is the serial. The client id must be the serial too, so no device can take over
/// another's session. Limits on clients and keep-alive are enforced here, and an address that failed too often
/// (<see cref="FailedConnectLimiter"/>) is refused before any secret is hashed.
/// </summary>
internal sealed class DeviceAuthenticator(
    DeviceCredentialStore credentials,
    ConnectedDevices connected,
    FailedConnectLimiter failedConnects,
    IOptions<BrokerOptions> options,
    ILogger<DeviceAuthenticator> logger)
{
    private readonly BrokerOptions _options = options.Value;

    public Task ValidateAsync(ValidatingConnectionEventArgs args)
    {
        var address = (args.RemoteEndPoint as IPEndPoint)?.Address;
        if (address is not null && failedConnects.IsBlocked(address))
        {
            // Counted and logged once per address and window by the limiter, not here per attempt. MQTT 3.1.1 has no
            // "rate exceeded"; MQTTnet would send that code to a 3.1.1 client as "unacceptable protocol version".
            args.ReasonCode = args.ProtocolVersion == MqttProtocolVersion.V500
                ? MqttConnectReasonCode.ConnectionRateExceeded
                : MqttConnectReasonCode.ServerUnavailable;
            args.ReasonString = "too many failed CONNECTs from this address; try again later";
            return Task.CompletedTask;
        }

        var refusal = Check(args, out var serial);
        if (refusal is { } reason)
        {
            if (reason.Code == MqttConnectReasonCode.BadUserNameOrPassword && address is not null)
            {
                failedConnects.RecordFailure(address);
            }

            args.ReasonCode = reason.Code;
            args.ReasonString = reason.Text;
            Log.ConnectionRefused(logger, args.ClientId ?? "", args.UserName ?? "", args.RemoteEndPoint?.ToString() ?? "?", reason.Text);
            return Task.CompletedTask;
        }

        args.SessionItems[SessionKeys.Serial] = serial;
        args.SessionItems[SessionKeys.Protocol] = args.ProtocolVersion;
        return Task.CompletedTask;
    }

    private (MqttConnectReasonCode Code, string Text)? Check(ValidatingConnectionEventArgs args, out SerialNumber serial)
    {
        serial = default;
        if (connected.Count >= _options.MaxClients)
        {
            return (MqttConnectReasonCode.ServerBusy, $"the gateway already serves {_options.MaxClients} devices (Agent:Broker:MaxClients)");
        }

        var keepAlive = args.KeepAlivePeriod ?? 0;
        if (keepAlive == 0 || keepAlive > _options.MaxKeepAliveSeconds)
        {
            return (MqttConnectReasonCode.ImplementationSpecificError, $"keep-alive must be 1-{_options.MaxKeepAliveSeconds} seconds (was {keepAlive})");
        }

        var certificateSerial = SerialFromCertificate(args.ClientCertificate);
        var claimed = certificateSerial ?? args.UserName;
        if (!SerialNumber.TryParse(claimed, out serial, out var serialProblem))
        {
            return (MqttConnectReasonCode.BadUserNameOrPassword, $"the username must be the device serial: {serialProblem}");
        }

        if (!string.IsNullOrEmpty(args.ClientId) && !string.Equals(args.ClientId, serial.Value, StringComparison.Ordinal))
        {
            return (MqttConnectReasonCode.ClientIdentifierNotValid, $"the client id must be the device serial {serial}");
        }

        if (string.IsNullOrEmpty(args.ClientId))
        {
            args.AssignedClientIdentifier = serial.Value;
        }

        if (certificateSerial is not null)
        {
            return null; // the TLS handshake already verified the certificate chain against Agent:Broker:Tls:ClientCaPath
        }

        // Verify costs one hash for a registered serial and an unknown one alike; both get the same answer.
        if (args.RawPassword is not { Length: > 0 } password || !credentials.Verify(serial.Value, password))
        {
            return (MqttConnectReasonCode.BadUserNameOrPassword, "unknown device or wrong secret");
        }

        return null;
    }

    private static string? SerialFromCertificate(X509Certificate2? certificate) =>
        certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } cn &&
        SerialNumber.TryParse(cn, out var serial, out _) ? serial.Value : null;
}
